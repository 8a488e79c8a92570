extension Model {
    /// Rows per chunk in batch prediction: bounds the scratch memory of one call while keeping
    /// matrix products large enough for BLAS to run at full speed.
    static let predictionChunkRows = 512

    /// Predicts one row: probabilities for softmax or sigmoid outputs, values for identity.
    public func predict(row: [Float]) throws(DataError) -> [Float] {
        var output = [Float](repeating: 0, count: configuration.outputCount)
        try row.withUnsafeBufferPointer { (input) throws(DataError) in
            try output.withUnsafeMutableBufferPointer { (destination) throws(DataError) in
                try predict(row: input, into: destination)
            }
        }
        return output
    }

    /// Predicts one row into caller-provided storage of `configuration.outputCount` floats.
    ///
    /// The direct path for serving: normalization and a matrix-vector product per layer in
    /// stack scratch, with no BLAS call, no heap allocation and no shared mutable state.
    public func predict(row input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) throws(DataError) {
        let inputs = configuration.inputCount
        guard input.count == inputs else { throw .featureCountMismatch(expected: inputs, got: input.count) }
        precondition(output.count == configuration.outputCount, "output buffer must hold outputCount values")
        for column in 0 ..< inputs where !input[column].isFinite {
            throw .nonFiniteInput(row: 0, column: column, value: input[column])
        }
        let width = layout.maxWidth
        let slope = configuration.leakyReLUSlope
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * width) { scratch in
            var current = scratch.baseAddress!
            var next = current + width
            normalize(input.baseAddress!, into: current, rows: 1)
            parameters.withUnsafeBufferPointer { values in
                let base = values.baseAddress!
                for (index, layer) in layout.layers.enumerated() {
                    let isLast = index == layout.layers.count - 1
                    let destination = isLast ? output.baseAddress! : next
                    multiplyRow(current, base + layer.weightOffset, bias: base + layer.biasOffset,
                                into: destination, inputs: layer.inputs, outputs: layer.outputs)
                    activateInPlace(destination, count: layer.outputs,
                                    activation: configuration.activations[index], slope: slope)
                    swap(&current, &next)
                }
            }
        }
        unstandardize(output.baseAddress!, rows: 1)
    }

    /// Predicts many rows at once through BLAS matrix products.
    ///
    /// Thread-safe like `predict(row:into:)`: each call allocates its own scratch.
    public func predict(rows inputs: Matrix) throws(DataError) -> Matrix {
        guard inputs.columns == configuration.inputCount else {
            throw .featureCountMismatch(expected: configuration.inputCount, got: inputs.columns)
        }
        let firstBad: Int? = inputs.withUnsafeBufferPointer { $0.firstIndex { !$0.isFinite } }
        if let index = firstBad {
            throw .nonFiniteInput(row: index / inputs.columns, column: index % inputs.columns, value: inputs.values[index])
        }
        var result = Matrix(rows: inputs.rows, columns: configuration.outputCount)
        guard inputs.rows > 0 else { return result }
        let chunk = min(inputs.rows, Self.predictionChunkRows)
        let width = layout.maxWidth
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * chunk * width)
        defer { scratch.deallocate() }
        inputs.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { destination in
                var start = 0
                while start < inputs.rows {
                    let rows = min(chunk, inputs.rows - start)
                    forward(source.baseAddress! + start * inputs.columns, rows: rows,
                            into: destination.baseAddress! + start * configuration.outputCount,
                            scratch: scratch, scratchStride: chunk * width)
                    start += rows
                }
            }
        }
        return result
    }

    /// The predicted class of each row: the argmax for softmax outputs, `p >= 0.5` for one
    /// sigmoid output. Regression models have no classes (a programmer error).
    public func predictClasses(rows inputs: Matrix) throws(DataError) -> [Int] {
        precondition(configuration.task == .classification, "predictClasses needs a classification model")
        let outputs = try predict(rows: inputs)
        return Self.classes(of: outputs)
    }

    /// Class indices from output rows (argmax, or a 0.5 threshold for a single output).
    static func classes(of outputs: Matrix) -> [Int] {
        ClassScores.classes(outputs.values, width: outputs.columns)
    }

    /// Writes `rows` normalized input rows from `source` to `destination`.
    func normalize(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, rows: Int) {
        let columns = configuration.inputCount
        if inputScale.isEmpty {
            destination.update(from: source, count: rows * columns)
            return
        }
        inputScale.withUnsafeBufferPointer { scale in
            inputShift.withUnsafeBufferPointer { shift in
                for r in 0 ..< rows {
                    let s = source + r * columns
                    let d = destination + r * columns
                    for c in 0 ..< columns { d[c] = s[c] * scale[c] + shift[c] }
                }
            }
        }
    }

    /// Maps `rows` output rows at `output` from standardized target units back to the targets'
    /// own (nothing without a target standardizer).
    func unstandardize(_ output: UnsafeMutablePointer<Float>, rows: Int) {
        if outputScale.isEmpty { return }
        let columns = configuration.outputCount
        outputScale.withUnsafeBufferPointer { scale in
            outputShift.withUnsafeBufferPointer { shift in
                for r in 0 ..< rows {
                    let o = output + r * columns
                    for c in 0 ..< columns { o[c] = o[c] * scale[c] + shift[c] }
                }
            }
        }
    }

    /// Runs `rows` raw input rows through the network into `output`, using two scratch areas of
    /// `scratchStride` floats each. Regression outputs come back in the targets' units.
    func forward(
        _ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, scratchStride: Int, activateOutput: Bool = true
    ) {
        var current = scratch
        var next = scratch + scratchStride
        normalize(input, into: current, rows: rows)
        parameters.withUnsafeBufferPointer { values in
            let base = values.baseAddress!
            for (index, layer) in layout.layers.enumerated() {
                let destination = index == layout.layers.count - 1 ? output : next
                let isLast = index == layout.layers.count - 1
                let activation = isLast && !activateOutput ? Activation.identity : configuration.activations[index]
                denseForward(current, weights: base + layer.weightOffset, bias: base + layer.biasOffset, into: destination,
                             rows: rows, inputs: layer.inputs, outputs: layer.outputs,
                             activation: activation, slope: configuration.leakyReLUSlope)
                swap(&current, &next)
            }
        }
        unstandardize(output, rows: rows)
    }
}
