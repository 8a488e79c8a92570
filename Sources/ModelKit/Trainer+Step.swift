import CModelKit

extension Trainer {
    /// One optimization step on the first `rows` rows of `inputBatch` / `targetBatch`.
    /// Returns the summed (not averaged) data loss of the batch.
    @inline(__always)
    func step(rows: Int, learningRate: Float) -> Double {
        let logits = forward(rows: rows, training: true)
        let last = layout.layers.count - 1
        let loss = lossAndGradient(
            logits: logits, targets: targetBatch, gradient: deltas[last], rows: rows,
            outputs: layout.layers[last].outputs, loss: modelConfiguration.loss,
            outputActivation: modelConfiguration.outputActivation)
        backward(rows: rows)
        regularizeGradients()
        update(learningRate: learningRate)
        return loss
    }

    /// Runs `inputBatch` through every layer; returns the output layer's logits (bias added,
    /// output activation not applied: the loss kernel does that).
    func forward(rows: Int, training: Bool) -> UnsafeMutablePointer<Float> {
        let last = layout.layers.count - 1
        let slope = modelConfiguration.leakyReLUSlope
        let useDropout = training && !masks.isEmpty
        var input = UnsafePointer(inputBatch)
        for (index, layer) in layout.layers.enumerated() {
            let z = activations[index]
            let activation = index == last ? Activation.identity : modelConfiguration.activations[index]
            denseForward(input, weights: parameters + layer.weightOffset, bias: parameters + layer.biasOffset, into: z,
                         rows: rows, inputs: layer.inputs, outputs: layer.outputs, activation: activation, slope: slope)
            if useDropout, index < last {
                applyDropout(z, mask: masks[index], into: dropped[index], count: rows * layer.outputs)
                input = UnsafePointer(dropped[index])
            } else {
                input = UnsafePointer(z)
            }
        }
        return activations[last]
    }

    /// Inverted dropout: zeroes each unit with probability `dropout` and scales survivors by
    /// `1 / (1 - dropout)`, so inference needs no rescaling.
    private func applyDropout(
        _ a: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int
    ) {
        let rate = configuration.regularization.dropout
        let keepScale = 1 / (1 - rate)
        for k in 0 ..< count {
            let kept = generator.nextUnitFloat() >= rate
            mask[k] = kept ? keepScale : 0
            output[k] = a[k] * mask[k]
        }
    }

    /// Back-propagates `deltas[last]` (the loss gradient at the logits) into `gradients`.
    ///
    /// Weight gradients accumulate onto `gradients`, which must be zero on entry: `update`
    /// clears them after use (llm.c's zero_grad, fused into the optimizer's pass).
    func backward(rows: Int) {
        let slope = modelConfiguration.leakyReLUSlope
        var index = layout.layers.count - 1
        while index >= 0 {
            let layer = layout.layers[index]
            let delta = deltas[index]
            let layerInput: UnsafePointer<Float> =
                index == 0 ? UnsafePointer(inputBatch) : UnsafePointer(masks.isEmpty ? activations[index - 1] : dropped[index - 1])
            multiplyTransposedInput(layerInput, delta, into: gradients + layer.weightOffset,
                                    rows: rows, inputs: layer.inputs, outputs: layer.outputs)
            sumColumns(delta, into: gradients + layer.biasOffset, rows: rows, outputs: layer.outputs)
            if index > 0 {
                let previous = deltas[index - 1]
                multiplyTransposedWeights(delta, parameters + layer.weightOffset, into: previous,
                                          rows: rows, inputs: layer.inputs, outputs: layer.outputs)
                let count = rows * layer.inputs
                if !masks.isEmpty {
                    let mask = masks[index - 1]
                    for k in 0 ..< count { previous[k] *= mask[k] }
                }
                multiplyByDerivative(previous, activated: activations[index - 1], count: count,
                                     activation: modelConfiguration.activations[index - 1], slope: slope)
            }
            index -= 1
        }
    }

    /// Adds the L1 and L2 penalty gradients to the weights (not biases), then clips the global
    /// gradient norm.
    func regularizeGradients() {
        let regularization = configuration.regularization
        if regularization.l1 > 0 || regularization.l2 > 0 {
            let l1 = regularization.l1
            let l2 = regularization.l2
            for layer in layout.layers {
                let w = parameters + layer.weightOffset
                let g = gradients + layer.weightOffset
                for k in 0 ..< layer.weightCount {
                    let sign: Float = w[k] > 0 ? 1 : (w[k] < 0 ? -1 : 0)
                    g[k] += l2 * w[k] + l1 * sign
                }
            }
        }
        if let maximum = regularization.gradientClipNorm {
            var squares: Float = 0
            for k in 0 ..< parameterCount { squares += gradients[k] * gradients[k] }
            let norm = squares.squareRoot()
            if norm > maximum {
                let scale = maximum / norm
                for k in 0 ..< parameterCount { gradients[k] *= scale }
            }
        }
    }

    /// Applies the optimizer's update rule to every parameter.
    func update(learningRate: Float) {
        let optimizer = configuration.optimizer
        stepCount += 1
        let count = parameterCount
        let p = parameters
        let g = gradients
        let m = firstMoment
        let v = secondMoment
        switch optimizer.kind {
        case .sgd:
            let momentum = optimizer.momentum
            if momentum == 0 {
                for k in 0 ..< count { p[k] -= learningRate * g[k] }
            } else if optimizer.nesterov {
                for k in 0 ..< count {
                    m[k] = momentum * m[k] + g[k]
                    p[k] -= learningRate * (g[k] + momentum * m[k])
                }
            } else {
                for k in 0 ..< count {
                    m[k] = momentum * m[k] + g[k]
                    p[k] -= learningRate * m[k]
                }
            }
            g.update(repeating: 0, count: count)
            hasFirstMoment = momentum > 0
        case .adam, .adamW:
            let beta1 = optimizer.beta1
            let beta2 = optimizer.beta2
            let t = Double(stepCount)
            let correction1 = 1 - power(Double(beta1), t)
            let correction2 = 1 - power(Double(beta2), t)
            let stepSize = Float(Double(learningRate) / correction1)
            let inverseRootCorrection2 = Float(1 / correction2.squareRoot())
            let epsilon = optimizer.epsilon
            let decay: Float = optimizer.kind == .adamW ? 1 - learningRate * optimizer.weightDecay : 1
            mk_adam_update(p, g, m, v, count, beta1, beta2, stepSize, inverseRootCorrection2, epsilon, decay)
            hasFirstMoment = true
            hasSecondMoment = true
        }
    }
}

extension Trainer {
    /// Gradient of the mean loss on one batch (at most `batchSize` already-normalized rows),
    /// without updating anything: for gradient checks and diagnostics.
    func gradient(inputs: Matrix, targets: Matrix) -> (loss: Double, gradient: [Float]) {
        precondition(inputs.rows <= batchCapacity && inputs.rows == targets.rows, "one batch at most")
        let rows = inputs.rows
        inputs.withUnsafeBufferPointer { inputBatch.update(from: $0.baseAddress!, count: $0.count) }
        targets.withUnsafeBufferPointer { targetBatch.update(from: $0.baseAddress!, count: $0.count) }
        gradients.update(repeating: 0, count: parameterCount)
        let logits = forward(rows: rows, training: true)
        let last = layout.layers.count - 1
        let loss = lossAndGradient(
            logits: logits, targets: targetBatch, gradient: deltas[last], rows: rows,
            outputs: layout.layers[last].outputs, loss: modelConfiguration.loss,
            outputActivation: modelConfiguration.outputActivation)
        backward(rows: rows)
        regularizeGradients()
        let result = Array(UnsafeBufferPointer(start: gradients, count: parameterCount))
        gradients.update(repeating: 0, count: parameterCount)
        return (loss / Double(rows), result)
    }
}
