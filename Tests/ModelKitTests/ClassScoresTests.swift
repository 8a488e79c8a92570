import ModelKit
import Testing

@Suite("class scores")
struct ClassScoresTests {
    @Test("classes are the argmax of each row, the lowest index on ties; one output thresholds at 0.5")
    func classes() {
        #expect(ClassScores.classes([0.1, 0.7, 0.2, 0.4, 0.4, 0.2], width: 3) == [1, 0])
        #expect(ClassScores.classes([0.49, 0.5, 0.99], width: 1) == [0, 1, 1])
        #expect(ClassScores.classes([], width: 4) == [])
    }

    @Test("one sigmoid output becomes a probability per class; softmax rows stay as they are")
    func probabilities() {
        #expect(ClassScores.probabilities([0.25, 1], width: 1) == [0.75, 0.25, 0, 1])
        #expect(ClassScores.probabilities([0.2, 0.8], width: 2) == [0.2, 0.8])
    }

    @Test("top k is best first, stable on ties, and capped at the class count")
    func top() {
        let rows: [Float] = [0.1, 0.3, 0.3, 0.3, 0.6, 0.1, 0.2, 0.1]
        #expect(ClassScores.top(2, row: 0, of: rows, classes: 4) == [1, 2])
        #expect(ClassScores.top(9, row: 1, of: rows, classes: 4) == [0, 2, 1, 3])
        #expect(ClassScores.top(0, row: 1, of: rows, classes: 4) == [])
    }
}
