/// What a computation will take, estimated from shapes before anything is allocated: the most
/// memory it holds at once, in bytes, and its floating-point operations.
///
/// The arithmetic saturates at `Int.max`, so sizes a hostile request chose can never overflow
/// into a small, acceptable-looking figure.
public struct ComputeCost: Sendable, Equatable {
    /// Bytes held at the peak.
    public var bytes: Int
    /// Floating-point operations (a multiply-add counts two).
    public var flops: Int

    /// A cost of `bytes` and `flops`.
    public init(bytes: Int = 0, flops: Int = 0) {
        self.bytes = bytes
        self.flops = flops
    }

    /// Both figures added, saturating.
    public static func + (lhs: ComputeCost, rhs: ComputeCost) -> ComputeCost {
        ComputeCost(bytes: saturating(lhs.bytes, plus: rhs.bytes), flops: saturating(lhs.flops, plus: rhs.flops))
    }

    /// `a + b`, or `Int.max` when that overflows.
    public static func saturating(_ a: Int, plus b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }

    /// `a * b` (negative factors count as 0), or `Int.max` when that overflows. Fixed
    /// arities, not a variadic list: this runs on every prediction, and a variadic call
    /// allocates its array (a dozen allocations a request cost the one-row path 6%).
    @inline(__always)
    public static func saturating(_ a: Int, _ b: Int) -> Int {
        let (product, overflow) = max(a, 0).multipliedReportingOverflow(by: max(b, 0))
        return overflow ? .max : product
    }

    /// `a * b * c`, saturating like `saturating(_:_:)`.
    @inline(__always)
    public static func saturating(_ a: Int, _ b: Int, _ c: Int) -> Int {
        saturating(saturating(a, b), c)
    }

    /// `a * b * c * d`, saturating like `saturating(_:_:)`.
    @inline(__always)
    public static func saturating(_ a: Int, _ b: Int, _ c: Int, _ d: Int) -> Int {
        saturating(saturating(a, b, c), d)
    }
}

extension ModelConfiguration {
    /// Multiply-adds of one row through every layer, counted as two operations each.
    public var forwardFlopsPerRow: Int {
        var total = 0
        for index in 0 ..< layerSizes.count - 1 {
            total = ComputeCost.saturating(total, plus: ComputeCost.saturating(2, layerSizes[index], layerSizes[index + 1]))
        }
        return total
    }

    /// What `Model.predict(rows:)` on `rows` rows holds and computes: the input matrix, the
    /// output matrix and the two scratch areas of one chunk of rows at the widest layer.
    public func predictionCost(rows: Int) -> ComputeCost {
        let float = MemoryLayout<Float>.size
        let chunk = min(rows, Model.predictionChunkRows)
        let widest = layerSizes.max() ?? 0
        var bytes = ComputeCost.saturating(rows, inputCount, float)
        bytes = ComputeCost.saturating(bytes, plus: ComputeCost.saturating(rows, outputCount, float))
        bytes = ComputeCost.saturating(bytes, plus: ComputeCost.saturating(2, chunk, widest, float))
        return ComputeCost(bytes: bytes, flops: ComputeCost.saturating(rows, forwardFlopsPerRow))
    }

    /// The part of `trainingCost` that the data alone takes, known before the network is: the
    /// request's rows, the split's copies of them and the normalized inputs (each row `inputs`
    /// plus `outputs` floats), and the row order. A request's rows are checked against it as
    /// they are read, before the network is chosen.
    public static func trainingDataBytes(rows: Int, inputs: Int, outputs: Int) -> Int {
        let rowWidth = ComputeCost.saturating(inputs, plus: outputs)
        let values = ComputeCost.saturating(3, rows, rowWidth, MemoryLayout<Float>.size)
        return ComputeCost.saturating(values, plus: ComputeCost.saturating(rows, MemoryLayout<Int>.size))
    }

    /// What training on `rows` rows with `training` holds at its peak and computes over every
    /// epoch, summed over all layers: the dataset (targets one column per output, so one-hot
    /// for a classifier) and its shuffled split, the normalized copy, the row order, the
    /// parameters with their gradients (one buffer per data-parallel worker), both optimizer
    /// moments and the best weights, and per
    /// layer the activations and deltas of one batch (with dropout also its masks), plus the
    /// final evaluation's predictions and its `classes x classes` confusion matrix. The loss
    /// history is left out: `LossHistory` keeps a fixed number of points.
    public func trainingCost(rows: Int, training: TrainingConfiguration) -> ComputeCost {
        let float = MemoryLayout<Float>.size
        // The trainer sizes its workspaces for a whole batch even when there are fewer rows.
        let batch = training.batchSize
        let rowWidth = ComputeCost.saturating(inputCount, plus: outputCount)
        var bytes = Self.trainingDataBytes(rows: rows, inputs: inputCount, outputs: outputCount)
        bytes = ComputeCost.saturating(bytes, plus: ComputeCost.saturating(5, parameterCount, float))
        // Every data-parallel worker but the first accumulates into a gradient buffer of its own.
        let extraWorkers = trainingThreads(for: training) - 1
        bytes = ComputeCost.saturating(bytes, plus: ComputeCost.saturating(extraWorkers, parameterCount, float))
        let hidden = layerSizes.dropFirst().dropLast().reduce(0) { ComputeCost.saturating($0, plus: $1) }
        let layerOutputs = ComputeCost.saturating(hidden, plus: outputCount)
        // Activations and deltas of every layer; with dropout also its masks and masked copies.
        var workspace = ComputeCost.saturating(2, batch, layerOutputs)
        if training.regularization.dropout > 0 {
            workspace = ComputeCost.saturating(workspace, plus: ComputeCost.saturating(2, batch, hidden))
        }
        workspace = ComputeCost.saturating(workspace, plus: ComputeCost.saturating(batch, rowWidth))
        bytes = ComputeCost.saturating(bytes, plus: ComputeCost.saturating(workspace, float))
        // Evaluation after training: predictions of every row, and the confusion matrix.
        bytes = ComputeCost.saturating(bytes, plus: predictionCost(rows: rows).bytes)
        if task == .classification {
            let classes = Swift.max(outputCount, 2)
            bytes = ComputeCost.saturating(bytes, plus: ComputeCost.saturating(classes, classes, MemoryLayout<Int>.size))
        }
        // Forward (2 per multiply-add) and backward (4) for every epoch, one more forward pass
        // per epoch for the validation loss and one for the final evaluation.
        let perEpoch = ComputeCost.saturating(rows, forwardFlopsPerRow, 4)
        let flops = ComputeCost.saturating(ComputeCost.saturating(training.epochs, perEpoch), plus: predictionCost(rows: rows).flops)
        return ComputeCost(bytes: bytes, flops: flops)
    }
}
