/// Feature scaling stored with a model and applied to every input before the first layer.
///
/// Fitted on the training split only (never on validation or test rows), so evaluation sees
/// the same transformation a deployed model applies to new data.
public enum Normalizer: Sendable, Equatable, Codable {
    /// Inputs are used as given.
    case none
    /// Z-score scaling.
    case standard(Standardizer)
    /// Scaling of each column to [0, 1] over the training range.
    case minMax(MinMaxScaler)

    /// Which kind of normalizer to fit; `TrainingConfiguration.normalization` uses it.
    public enum Kind: String, Sendable, Equatable, Codable {
        /// No scaling.
        case none
        /// Z-score scaling (`Standardizer`).
        case standard
        /// Min-max scaling (`MinMaxScaler`).
        case minMax = "min_max"
    }

    /// Fits a normalizer of `kind` on the rows of `inputs`.
    public static func fit(_ kind: Kind, on inputs: Matrix) -> Normalizer {
        switch kind {
        case .none: .none
        case .standard: .standard(Standardizer(fittedOn: inputs))
        case .minMax: .minMax(MinMaxScaler(fittedOn: inputs))
        }
    }

    /// Number of features the normalizer was fitted on (nil for `.none`).
    public var featureCount: Int? {
        switch self {
        case .none: nil
        case .standard(let standardizer): standardizer.mean.count
        case .minMax(let scaler): scaler.minimum.count
        }
    }

    /// The per-column affine map `x * scale + shift` this normalizer applies.
    ///
    /// Both scalers reduce to it, which keeps the hot path to one fused multiply-add per value.
    var affine: (scale: [Float], shift: [Float])? {
        switch self {
        case .none:
            return nil
        case .standard(let standardizer):
            let scale = standardizer.standardDeviation.map { 1 / $0 }
            return (scale, zip(standardizer.mean, scale).map { -$0 * $1 })
        case .minMax(let scaler):
            let scale = scaler.range.map { 1 / $0 }
            return (scale, zip(scaler.minimum, scale).map { -$0 * $1 })
        }
    }

    /// Returns `inputs` with every row normalized.
    public func transform(_ inputs: Matrix) -> Matrix {
        guard let (scale, shift) = affine else { return inputs }
        precondition(scale.count == inputs.columns, "normalizer fitted on a different feature count")
        var result = inputs
        let columns = inputs.columns
        result.withUnsafeMutableBufferPointer { values in
            for row in 0 ..< inputs.rows {
                for column in 0 ..< columns {
                    let index = row * columns + column
                    values[index] = values[index] * scale[column] + shift[column]
                }
            }
        }
        return result
    }
}

/// Z-score scaling: `(x - mean) / standardDeviation`, per column.
///
/// Columns whose training values are all equal get a standard deviation of 1, so they map to
/// zero instead of dividing by zero.
public struct Standardizer: Sendable, Equatable, Codable {
    /// Training mean of each column.
    public let mean: [Float]
    /// Training population standard deviation of each column (1 where it was zero).
    public let standardDeviation: [Float]

    /// Wraps stored statistics (e.g. read from a checkpoint).
    public init(mean: [Float], standardDeviation: [Float]) throws(ModelError) {
        guard mean.count == standardDeviation.count, !mean.isEmpty else {
            throw .normalizerShapeMismatch(firstCount: mean.count, secondCount: standardDeviation.count)
        }
        self.mean = mean
        self.standardDeviation = standardDeviation.map { $0 > 0 && $0.isFinite ? $0 : 1 }
    }

    /// Fits the statistics on `inputs`, accumulating in Double to keep large sets exact.
    public init(fittedOn inputs: Matrix) {
        var sums = [Double](repeating: 0, count: inputs.columns)
        var squares = [Double](repeating: 0, count: inputs.columns)
        inputs.withUnsafeBufferPointer { values in
            for row in 0 ..< inputs.rows {
                for column in 0 ..< inputs.columns {
                    let value = Double(values[row * inputs.columns + column])
                    sums[column] += value
                    squares[column] += value * value
                }
            }
        }
        let count = Double(max(inputs.rows, 1))
        let means = sums.map { $0 / count }
        let deviations = zip(squares, means).map { squareSum, mean in
            Float(max(squareSum / count - mean * mean, 0).squareRoot())
        }
        self.mean = means.map { Float($0) }
        self.standardDeviation = deviations.map { $0 > 0 && $0.isFinite ? $0 : 1 }
    }
}

/// Min-max scaling: `(x - minimum) / range`, per column, mapping training values to [0, 1].
///
/// Constant columns get a range of 1 and map to zero.
public struct MinMaxScaler: Sendable, Equatable, Codable {
    /// Training minimum of each column.
    public let minimum: [Float]
    /// Training `maximum - minimum` of each column (1 where it was zero).
    public let range: [Float]

    /// Wraps stored statistics (e.g. read from a checkpoint).
    public init(minimum: [Float], range: [Float]) throws(ModelError) {
        guard minimum.count == range.count, !minimum.isEmpty else {
            throw .normalizerShapeMismatch(firstCount: minimum.count, secondCount: range.count)
        }
        self.minimum = minimum
        self.range = range.map { $0 > 0 && $0.isFinite ? $0 : 1 }
    }

    /// Fits the minimum and range of each column of `inputs`.
    public init(fittedOn inputs: Matrix) {
        var low = [Float](repeating: .infinity, count: inputs.columns)
        var high = [Float](repeating: -.infinity, count: inputs.columns)
        inputs.withUnsafeBufferPointer { values in
            for row in 0 ..< inputs.rows {
                for column in 0 ..< inputs.columns {
                    let value = values[row * inputs.columns + column]
                    low[column] = min(low[column], value)
                    high[column] = max(high[column], value)
                }
            }
        }
        self.minimum = low
        self.range = zip(high, low).map { $0 - $1 > 0 && ($0 - $1).isFinite ? $0 - $1 : 1 }
    }
}
