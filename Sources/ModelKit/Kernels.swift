import CBLAS
import CModelKit

// The numeric inner loops shared by training and inference. Everything works on raw pointers
// into preallocated buffers: no allocation, no bounds checks, no reference counting.
// Shape letters: R rows in the batch, I layer inputs, O layer outputs.

/// `C[R x O] += A[R x I] * W[I x O]`, all row-major and dense.
///
/// Accumulating (beta = 1) lets OpenBLAS skip its separate pass that scales or clears C,
/// which at batch 32 costs about a tenth of a training step: callers pre-fill C with the bias.
@inline(__always)
func multiplyAccumulating(
    _ a: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
    rows: Int, inputs: Int, outputs: Int
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outputs), Int32(inputs),
                1, a, Int32(inputs), w, Int32(outputs), 1, c, Int32(outputs))
}

/// `dW[I x O] += A[R x I]^T * dZ[R x O]`: the weight gradient of a dense layer, accumulated
/// onto `dw`, which the optimizer clears after each update.
@inline(__always)
func multiplyTransposedInput(
    _ a: UnsafePointer<Float>, _ dz: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>,
    rows: Int, inputs: Int, outputs: Int
) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(inputs), Int32(outputs), Int32(rows),
                1, a, Int32(inputs), dz, Int32(outputs), 1, dw, Int32(outputs))
}

/// `dA[R x I] = dZ[R x O] * W[I x O]^T`: the gradient flowing to a layer's input.
@inline(__always)
func multiplyTransposedWeights(
    _ dz: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into da: UnsafeMutablePointer<Float>,
    rows: Int, inputs: Int, outputs: Int
) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(inputs), Int32(outputs),
                1, dz, Int32(outputs), w, Int32(outputs), 0, da, Int32(inputs))
}

/// `y[O] = b[O] + x[I] * W[I x O]`: one row through a dense layer without BLAS call overhead
/// (whole weight rows are accumulated, contiguous in this layout).
@inline(__always)
func multiplyRow(
    _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    into y: UnsafeMutablePointer<Float>, inputs: Int, outputs: Int
) {
    mk_dense_row(x, w, bias, y, inputs, outputs)
}

/// A dense layer over a batch: `z = act(input * W + bias)`, written to `z[R x O]`.
@inline(__always)
func denseForward(
    _ input: UnsafePointer<Float>, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    into z: UnsafeMutablePointer<Float>, rows: Int, inputs: Int, outputs: Int, activation: Activation, slope: Float
) {
    mk_fill_rows(z, bias, rows, outputs)
    multiplyAccumulating(input, weights, into: z, rows: rows, inputs: inputs, outputs: outputs)
    switch activation {
    case .identity:
        break
    case .relu:
        mk_relu(z, rows * outputs)
    case .leakyReLU, .sigmoid, .tanh, .softmax:
        for r in 0 ..< rows {
            activateInPlace(z + r * outputs, count: outputs, activation: activation, slope: slope)
        }
    }
}

/// Stable softmax of one row in place.
@inline(__always)
func softmaxInPlace(_ row: UnsafeMutablePointer<Float>, count: Int) {
    var maximum = row[0]
    for o in 1 ..< count { maximum = max(maximum, row[o]) }
    var sum: Float = 0
    for o in 0 ..< count {
        let e = exponential(row[o] - maximum)
        row[o] = e
        sum += e
    }
    let scale = 1 / sum
    for o in 0 ..< count { row[o] *= scale }
}

/// Multiplies `delta` (the gradient with respect to a hidden layer's output `a`) by the
/// activation's derivative, expressed through the output so the pre-activation need not be kept.
@inline(__always)
func multiplyByDerivative(
    _ delta: UnsafeMutablePointer<Float>, activated a: UnsafePointer<Float>, count: Int,
    activation: Activation, slope: Float
) {
    switch activation {
    case .relu:
        mk_relu_backward(delta, a, count)
    case .leakyReLU:
        for k in 0 ..< count where a[k] <= 0 { delta[k] *= slope }
    case .sigmoid:
        for k in 0 ..< count { delta[k] *= a[k] * (1 - a[k]) }
    case .tanh:
        for k in 0 ..< count { delta[k] *= 1 - a[k] * a[k] }
    case .identity, .softmax:
        // Output-only activations; the loss kernel differentiates them.
        break
    }
}

/// Column sums of `dz[R x O]` into `db[O]`: the bias gradient.
@inline(__always)
func sumColumns(_ dz: UnsafePointer<Float>, into db: UnsafeMutablePointer<Float>, rows: Int, outputs: Int) {
    mk_sum_columns(dz, db, rows, outputs)
}

/// Sum of the loss over `rows` rows of logits `z` against `y`, and, when `gradient` is non-nil,
/// the gradient of the *mean* loss with respect to the logits written there. The mean is over
/// `batchRows` rows (by default `rows`): a worker that holds part of a batch passes the whole
/// batch's row count, so the parts add up to the batch's gradient.
///
/// Takes pre-activation outputs so that the output activation and the loss are differentiated
/// together: softmax + cross-entropy and sigmoid + binary cross-entropy reduce to `(p - y) / R`,
/// and their losses are computed from the logits with log-sum-exp, never from `log(p)`.
func lossAndGradient(
    logits z: UnsafePointer<Float>, targets y: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?,
    rows: Int, batchRows: Int? = nil, outputs: Int, loss: Loss, outputActivation: Activation
) -> Double {
    let meanRows = batchRows ?? rows
    switch loss {
    case .softmaxCrossEntropy:
        return softmaxCrossEntropy(logits: z, targets: y, gradient: gradient, rows: rows, meanRows: meanRows, outputs: outputs)
    case .binaryCrossEntropy:
        return binaryCrossEntropy(logits: z, targets: y, gradient: gradient, count: rows * outputs, meanRows: meanRows)
    case .meanSquaredError, .meanAbsoluteError, .huber:
        return elementwiseLoss(
            loss, logits: z, targets: y, gradient: gradient, rows: rows, meanRows: meanRows, outputs: outputs,
            outputActivation: outputActivation)
    }
}

/// `lossAndGradient` for softmax + cross-entropy: the loss from the logits by log-sum-exp, the
/// gradient `(p - y) / meanRows`.
@inline(__always)
private func softmaxCrossEntropy(
    logits z: UnsafePointer<Float>, targets y: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?,
    rows: Int, meanRows: Int, outputs: Int
) -> Double {
    var total: Double = 0
    let inverseRows = 1 / Float(meanRows)
    for r in 0 ..< rows {
        let zr = z + r * outputs
        let yr = y + r * outputs
        var maximum = zr[0]
        for o in 1 ..< outputs { maximum = max(maximum, zr[o]) }
        var sum: Float = 0
        if let gradient {
            // Keep the exponentials in the gradient row so they are computed once.
            let gr = gradient + r * outputs
            for o in 0 ..< outputs {
                let e = exponential(zr[o] - maximum)
                gr[o] = e
                sum += e
            }
            let scale = inverseRows / sum
            for o in 0 ..< outputs { gr[o] = gr[o] * scale - yr[o] * inverseRows }
        } else {
            for o in 0 ..< outputs { sum += exponential(zr[o] - maximum) }
        }
        let logSumExp = maximum + logarithm(sum)
        var rowLoss: Float = 0
        for o in 0 ..< outputs { rowLoss += yr[o] * (logSumExp - zr[o]) }
        total += Double(rowLoss)
    }
    return total
}

/// `lossAndGradient` for sigmoid + binary cross-entropy over `count` logits: the gradient
/// `(p - y) / meanRows`.
@inline(__always)
private func binaryCrossEntropy(
    logits z: UnsafePointer<Float>, targets y: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?,
    count: Int, meanRows: Int
) -> Double {
    var total: Double = 0
    let inverseRows = 1 / Float(meanRows)
    for k in 0 ..< count {
        let v = z[k]
        // max(v, 0) - v*y + log(1 + e^-|v|): exact for any logit magnitude.
        total += Double(max(v, 0) - v * y[k] + logarithm1p(exponential(-abs(v))))
        gradient?[k] = (logistic(v) - y[k]) * inverseRows
    }
    return total
}

/// `lossAndGradient` for the regression losses (`loss` is MSE, MAE or Huber), through a
/// sigmoid output when there is one.
@inline(__always)
private func elementwiseLoss(
    _ loss: Loss, logits z: UnsafePointer<Float>, targets y: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?,
    rows: Int, meanRows: Int, outputs: Int, outputActivation: Activation
) -> Double {
    let count = rows * outputs
    // Averaged over every element, as PyTorch's MSELoss / L1Loss / HuberLoss do.
    let inverseCount = 1 / Float(meanRows * outputs)
    var rowsTotal: Double = 0
    for k in 0 ..< count {
        let p = outputActivation == .sigmoid ? logistic(z[k]) : z[k]
        let difference = p - y[k]
        var value: Float
        var slope: Float
        switch loss {
        case .meanSquaredError:
            value = difference * difference
            slope = 2 * difference
        case .meanAbsoluteError:
            value = abs(difference)
            slope = difference > 0 ? 1 : (difference < 0 ? -1 : 0)
        case .huber(let delta):
            if abs(difference) <= delta {
                value = 0.5 * difference * difference
                slope = difference
            } else {
                value = delta * (abs(difference) - 0.5 * delta)
                slope = difference > 0 ? delta : -delta
            }
        case .binaryCrossEntropy, .softmaxCrossEntropy:
            value = 0
            slope = 0
        }
        rowsTotal += Double(value)
        if outputActivation == .sigmoid { slope *= p * (1 - p) }
        gradient?[k] = slope * inverseCount
    }
    // Per-row sum of the element mean, so that dividing the total by R gives the mean loss.
    return rowsTotal / Double(outputs)
}

/// Applies `activation` in place to one row whose bias is already added.
@inline(__always)
func activateInPlace(_ row: UnsafeMutablePointer<Float>, count: Int, activation: Activation, slope: Float) {
    switch activation {
    case .identity:
        break
    case .relu:
        for o in 0 ..< count { row[o] = max(row[o], 0) }
    case .leakyReLU:
        for o in 0 ..< count where row[o] < 0 { row[o] *= slope }
    case .sigmoid:
        for o in 0 ..< count { row[o] = logistic(row[o]) }
    case .tanh:
        for o in 0 ..< count { row[o] = hyperbolicTangent(row[o]) }
    case .softmax:
        softmaxInPlace(row, count: count)
    }
}
