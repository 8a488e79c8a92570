/// Regression quality over all outputs of a set of rows.
public struct RegressionMetrics: Sendable, Equatable, Codable {
    /// Mean squared error.
    public var meanSquaredError: Double
    /// Square root of the mean squared error.
    public var rootMeanSquaredError: Double
    /// Mean absolute error.
    public var meanAbsoluteError: Double
    /// Coefficient of determination, `1 - SS_res / SS_tot`, with SS_tot summed per output
    /// around that output's mean. NaN when every target is the same (SS_tot = 0).
    public var r2: Double

    /// Compares predictions with targets of the same shape.
    public init(predicted: Matrix, expected: Matrix) {
        precondition(predicted.rows == expected.rows && predicted.columns == expected.columns, "shapes must match")
        let rows = expected.rows
        let columns = expected.columns
        var means = [Double](repeating: 0, count: columns)
        for r in 0 ..< rows {
            for c in 0 ..< columns { means[c] += Double(expected[r, c]) }
        }
        for c in 0 ..< columns { means[c] /= Double(max(rows, 1)) }
        var squared: Double = 0
        var absolute: Double = 0
        var total: Double = 0
        for r in 0 ..< rows {
            for c in 0 ..< columns {
                let difference = Double(predicted[r, c]) - Double(expected[r, c])
                squared += difference * difference
                absolute += abs(difference)
                let spread = Double(expected[r, c]) - means[c]
                total += spread * spread
            }
        }
        let count = Double(max(rows * columns, 1))
        meanSquaredError = squared / count
        rootMeanSquaredError = meanSquaredError.squareRoot()
        meanAbsoluteError = absolute / count
        r2 = total > 0 ? 1 - squared / total : .nan
    }
}
