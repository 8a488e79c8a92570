import CModelKit

extension Trainer {
    /// One optimization step on the first `rows` rows of `inputBatch` / `targetBatch`.
    /// Returns the summed (not averaged) data loss of the batch.
    @inline(__always)
    func step(rows: Int, learningRate: Float) -> Double {
        if let team { return parallelStep(rows: rows, learningRate: learningRate, team: team) }
        drawDropoutMasks(rows: rows)
        let loss = forwardAndBackward(rows: 0 ..< rows, batchRows: rows, into: gradients)
        regularizeGradients()
        update(learningRate: learningRate)
        return loss
    }

    /// Forward, loss and backward for `rows` of the batch (all of it, or one worker's share):
    /// accumulates their part of the gradient of the batch's mean loss (over `batchRows` rows)
    /// into `gradient`, and returns their summed loss.
    ///
    /// Reads only what no other worker writes: the parameters, the batch, the dropout masks
    /// already drawn, and its own rows of every workspace. Safe to run on several rows ranges
    /// at once, each with its own `gradient` buffer.
    func forwardAndBackward(rows: Range<Int>, batchRows: Int, into gradient: UnsafeMutablePointer<Float>) -> Double {
        let logits = forward(rows: rows, training: true)
        let last = layout.layers.count - 1
        let outputs = layout.layers[last].outputs
        let loss = lossAndGradient(
            logits: logits, targets: targetBatch + rows.lowerBound * outputs, gradient: deltas[last] + rows.lowerBound * outputs,
            rows: rows.count, batchRows: batchRows, outputs: outputs, loss: modelConfiguration.loss,
            outputActivation: modelConfiguration.outputActivation)
        backward(rows: rows, into: gradient)
        return loss
    }

    /// Runs `rows` of `inputBatch` through every layer; returns the output layer's logits of
    /// those rows (bias added, output activation not applied: the loss kernel does that).
    /// With `training` and dropout, applies the masks `drawDropoutMasks` drew for the batch.
    func forward(rows: Range<Int>, training: Bool) -> UnsafeMutablePointer<Float> {
        let last = layout.layers.count - 1
        let slope = modelConfiguration.leakyReLUSlope
        let useDropout = training && !masks.isEmpty
        let first = rows.lowerBound
        var input = UnsafePointer(inputBatch + first * modelConfiguration.inputCount)
        for (index, layer) in layout.layers.enumerated() {
            let z = activations[index] + first * layer.outputs
            let activation = index == last ? Activation.identity : modelConfiguration.activations[index]
            denseForward(input, weights: parameters + layer.weightOffset, bias: parameters + layer.biasOffset, into: z,
                         rows: rows.count, inputs: layer.inputs, outputs: layer.outputs, activation: activation, slope: slope)
            if useDropout, index < last {
                let mask = masks[index] + first * layer.outputs
                let output = dropped[index] + first * layer.outputs
                for k in 0 ..< rows.count * layer.outputs { output[k] = z[k] * mask[k] }
                input = UnsafePointer(output)
            } else {
                input = UnsafePointer(z)
            }
        }
        return activations[last] + first * layout.layers[last].outputs
    }

    /// Inverted dropout's masks for the first `rows` rows of every hidden layer: each unit is
    /// kept with probability `1 - dropout` and then scaled by `1 / (1 - dropout)`, so inference
    /// needs no rescaling. Drawn in one sequence, layer by layer, before the forward pass, so
    /// the masks are the same however the batch is split among workers.
    func drawDropoutMasks(rows: Int) {
        guard !masks.isEmpty else { return }
        let rate = configuration.regularization.dropout
        let keepScale = 1 / (1 - rate)
        for (index, mask) in masks.enumerated() {
            for k in 0 ..< rows * layout.layers[index].outputs {
                mask[k] = generator.nextUnitFloat() >= rate ? keepScale : 0
            }
        }
    }

    /// Back-propagates the loss gradient at the logits of `rows` (in `deltas[last]`) into
    /// `gradient`.
    ///
    /// Weight gradients accumulate onto `gradient`, which must be zero on entry: `update`
    /// clears them after use (llm.c's zero_grad, fused into the optimizer's pass).
    func backward(rows: Range<Int>, into gradient: UnsafeMutablePointer<Float>) {
        let slope = modelConfiguration.leakyReLUSlope
        let first = rows.lowerBound
        var index = layout.layers.count - 1
        while index >= 0 {
            let layer = layout.layers[index]
            let delta = deltas[index] + first * layer.outputs
            let layerInput: UnsafePointer<Float> =
                index == 0 ? UnsafePointer(inputBatch) : UnsafePointer(masks.isEmpty ? activations[index - 1] : dropped[index - 1])
            multiplyTransposedInput(layerInput + first * layer.inputs, delta, into: gradient + layer.weightOffset,
                                    rows: rows.count, inputs: layer.inputs, outputs: layer.outputs)
            sumColumns(delta, into: gradient + layer.biasOffset, rows: rows.count, outputs: layer.outputs)
            if index > 0 {
                let previous = deltas[index - 1] + first * layer.inputs
                multiplyTransposedWeights(delta, parameters + layer.weightOffset, into: previous,
                                          rows: rows.count, inputs: layer.inputs, outputs: layer.outputs)
                let count = rows.count * layer.inputs
                if !masks.isEmpty {
                    let mask = masks[index - 1] + first * layer.inputs
                    for k in 0 ..< count { previous[k] *= mask[k] }
                }
                multiplyByDerivative(previous, activated: activations[index - 1] + first * layer.inputs, count: count,
                                     activation: modelConfiguration.activations[index - 1], slope: slope)
            }
            index -= 1
        }
    }

    /// Adds the L1 and L2 penalty gradients to the weights (not biases), then clips the global
    /// gradient norm.
    func regularizeGradients() {
        addPenalties(to: 0 ..< parameterCount)
        if let maximum = configuration.regularization.gradientClipNorm {
            let norm = sumOfSquares(0 ..< parameterCount).squareRoot()
            if norm > maximum {
                let scale = maximum / norm
                for k in 0 ..< parameterCount { gradients[k] *= scale }
            }
        }
    }

    /// Adds the L1 and L2 penalty gradients to the weights among `range` of the parameters.
    func addPenalties(to range: Range<Int>) {
        let regularization = configuration.regularization
        guard regularization.l1 > 0 || regularization.l2 > 0 else { return }
        let l1 = regularization.l1
        let l2 = regularization.l2
        for layer in layout.layers {
            let weights = range.clamped(to: layer.weightOffset ..< layer.weightOffset + layer.weightCount)
            for k in weights {
                let w = parameters[k]
                let sign: Float = w > 0 ? 1 : (w < 0 ? -1 : 0)
                gradients[k] += l2 * w + l1 * sign
            }
        }
    }

    /// The sum of the squared gradients in `range`, in index order.
    func sumOfSquares(_ range: Range<Int>) -> Float {
        var squares: Float = 0
        for k in range { squares += gradients[k] * gradients[k] }
        return squares
    }

    /// Applies the optimizer's update rule to every parameter.
    func update(learningRate: Float) {
        apply(nextUpdate(learningRate: learningRate), to: 0 ..< parameterCount)
    }

    /// Counts the step and returns its update rule, with Adam's bias corrections for it.
    func nextUpdate(learningRate: Float) -> UpdateRule {
        let optimizer = configuration.optimizer
        stepCount += 1
        switch optimizer.kind {
        case .sgd:
            hasFirstMoment = optimizer.momentum > 0
            return UpdateRule(kind: .sgd, learningRate: learningRate, momentum: optimizer.momentum, nesterov: optimizer.nesterov)
        case .adam, .adamW:
            hasFirstMoment = true
            hasSecondMoment = true
            let t = Double(stepCount)
            let correction1 = 1 - power(Double(optimizer.beta1), t)
            let correction2 = 1 - power(Double(optimizer.beta2), t)
            return UpdateRule(
                kind: optimizer.kind, learningRate: learningRate, beta1: optimizer.beta1, beta2: optimizer.beta2,
                stepSize: Float(Double(learningRate) / correction1), inverseRootCorrection2: Float(1 / correction2.squareRoot()),
                epsilon: optimizer.epsilon,
                decay: optimizer.kind == .adamW ? 1 - learningRate * optimizer.weightDecay : 1)
        }
    }

    /// Applies `rule` to the parameters in `range` and clears their gradients. Each parameter
    /// depends only on its own gradient and moments, so ranges may be updated in parallel.
    func apply(_ rule: UpdateRule, to range: Range<Int>) {
        let count = range.count
        let p = parameters + range.lowerBound
        let g = gradients + range.lowerBound
        let m = firstMoment + range.lowerBound
        let v = secondMoment + range.lowerBound
        let learningRate = rule.learningRate
        switch rule.kind {
        case .sgd:
            let momentum = rule.momentum
            if momentum == 0 {
                for k in 0 ..< count { p[k] -= learningRate * g[k] }
            } else if rule.nesterov {
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
        case .adam, .adamW:
            mk_adam_update(p, g, m, v, count, rule.beta1, rule.beta2, rule.stepSize, rule.inverseRootCorrection2, rule.epsilon, rule.decay)
        }
    }
}

/// The coefficients of one optimizer step, computed once and applied to every parameter range.
struct UpdateRule {
    var kind: OptimizerConfiguration.Kind
    var learningRate: Float
    var momentum: Float = 0
    var nesterov = false
    var beta1: Float = 0
    var beta2: Float = 0
    var stepSize: Float = 0
    var inverseRootCorrection2: Float = 0
    var epsilon: Float = 0
    var decay: Float = 1
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
        drawDropoutMasks(rows: rows)
        let loss = forwardAndBackward(rows: 0 ..< rows, batchRows: rows, into: gradients)
        regularizeGradients()
        let result = Array(UnsafeBufferPointer(start: gradients, count: parameterCount))
        gradients.update(repeating: 0, count: parameterCount)
        return (loss / Double(rows), result)
    }
}
