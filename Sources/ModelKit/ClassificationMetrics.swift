/// Classification quality: accuracy, per-class and macro precision / recall / F1, and the
/// confusion matrix.
///
/// A class with no predictions (or no true rows) gets precision (or recall) 0, like
/// scikit-learn's `zero_division=0`, so the macro averages match the peers' figures.
public struct ClassificationMetrics: Sendable, Equatable, Codable {
    /// `confusion[true][predicted]` row counts.
    public var confusion: [[Int]]
    /// Share of rows whose predicted class is the true class.
    public var accuracy: Double
    /// Per class: true positives / predicted positives.
    public var precision: [Double]
    /// Per class: true positives / actual positives.
    public var recall: [Double]
    /// Per class: harmonic mean of precision and recall, `2TP / (2TP + FP + FN)`.
    public var f1: [Double]
    /// Unweighted mean of `precision` over classes.
    public var macroPrecision: Double
    /// Unweighted mean of `recall` over classes.
    public var macroRecall: Double
    /// Unweighted mean of `f1` over classes.
    public var macroF1: Double

    /// Counts predictions against true labels; both must lie in `0..<classCount`.
    public init(predicted: [Int], expected: [Int], classCount: Int) {
        precondition(predicted.count == expected.count, "one prediction per label")
        precondition(classCount > 0, "at least one class")
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (guess, truth) in zip(predicted, expected) {
            precondition((0 ..< classCount).contains(guess) && (0 ..< classCount).contains(truth), "label out of range")
            confusion[truth][guess] += 1
        }
        var precision = [Double]()
        var recall = [Double]()
        var f1 = [Double]()
        var correct = 0
        for c in 0 ..< classCount {
            let truePositives = confusion[c][c]
            let actual = confusion[c].reduce(0, +)
            let predictedCount = confusion.reduce(0) { $0 + $1[c] }
            correct += truePositives
            precision.append(predictedCount == 0 ? 0 : Double(truePositives) / Double(predictedCount))
            recall.append(actual == 0 ? 0 : Double(truePositives) / Double(actual))
            let denominator = actual + predictedCount
            f1.append(denominator == 0 ? 0 : 2 * Double(truePositives) / Double(denominator))
        }
        let classes = Double(classCount)
        self.confusion = confusion
        self.accuracy = expected.isEmpty ? 0 : Double(correct) / Double(expected.count)
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.macroPrecision = precision.reduce(0, +) / classes
        self.macroRecall = recall.reduce(0, +) / classes
        self.macroF1 = f1.reduce(0, +) / classes
    }
}
