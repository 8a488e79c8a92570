/// Comparisons whose duration does not depend on where two secrets first differ.
enum ConstantTime {
    /// Whether `a` equals `b`. Every byte of the longer input is visited and the lengths are
    /// folded into the result, so the time depends only on the lengths, never on the contents.
    static func equals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let lengthA = a.count, lengthB = b.count
        var difference = UInt64(truncatingIfNeeded: lengthA ^ lengthB)
        var iteratorA = a.makeIterator(), iteratorB = b.makeIterator()
        for _ in 0..<max(lengthA, lengthB) {
            let x = iteratorA.next() ?? 0
            let y = iteratorB.next() ?? 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0
    }
}
