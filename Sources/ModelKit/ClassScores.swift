/// Reading classes out of a classifier's outputs: the rows of `width` scores a forward pass
/// writes, flat and row-major. One sigmoid output (`width` 1) stands for two classes.
public enum ClassScores {
    /// The predicted class of each row: the argmax (the lowest index on ties), or for one
    /// sigmoid output 1 when it is at least 0.5.
    public static func classes(_ outputs: [Float], width: Int) -> [Int] {
        precondition(width >= 1, "a row has at least one output")
        let rows = outputs.count / width
        var classes = [Int]()
        classes.reserveCapacity(rows)
        outputs.withUnsafeBufferPointer { values in
            for row in 0 ..< rows {
                let base = values.baseAddress! + row * width
                classes.append(width == 1 ? (base[0] >= 0.5 ? 1 : 0) : argmax(base, count: width))
            }
        }
        return classes
    }

    /// One probability per class and row: softmax outputs as they are; one sigmoid output p
    /// becomes [1 - p, p].
    public static func probabilities(_ outputs: [Float], width: Int) -> [Float] {
        guard width == 1 else { return outputs }
        var pairs = [Float]()
        pairs.reserveCapacity(outputs.count * 2)
        for p in outputs {
            pairs.append(1 - p)
            pairs.append(p)
        }
        return pairs
    }

    /// The `k` most probable classes of row `row` of `probabilities` (rows of `classes`
    /// values), best first; equal probabilities keep the lower class index first. `k` is
    /// capped at `classes`.
    public static func top(_ k: Int, row: Int, of probabilities: [Float], classes: Int) -> [Int] {
        let base = row * classes
        let order = (0 ..< classes).sorted { a, b in
            let (pa, pb) = (probabilities[base + a], probabilities[base + b])
            return pa > pb || (pa == pb && a < b)
        }
        return Array(order.prefix(max(0, k)))
    }
}
