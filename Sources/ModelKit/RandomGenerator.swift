/// A deterministic pseudo-random generator (xoshiro256**) with explicit, copyable state.
///
/// Seeded through SplitMix64 so that nearby seeds give unrelated streams. ModelKit never uses
/// the system generator: the same seed always produces the same weights, shuffles and dropout
/// masks, on every platform.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable, Codable {
    // The four words of xoshiro256** state, stored separately so that `next()` stays free of
    // array bounds and uniqueness checks (it runs once per dropout unit).
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// Creates a generator whose stream is fully determined by `seed`.
    public init(seed: UInt64) {
        var splitMix = seed
        var words = [UInt64]()
        for _ in 0 ..< 4 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            words.append(z ^ (z >> 31))
        }
        (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform float in [0, 1) with 24 random bits.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's method).
    public mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let limit = UInt64(bound)
        var product = next().multipliedFullWidth(by: limit)
        if product.low < limit {
            let threshold = (0 &- limit) % limit
            while product.low < threshold {
                product = next().multipliedFullWidth(by: limit)
            }
        }
        return Int(product.high)
    }

    /// Fisher-Yates shuffle driven by this generator, so it does not depend on the standard
    /// library's (unspecified) shuffle algorithm.
    public mutating func shuffle(_ elements: inout [Int]) {
        elements.withUnsafeMutableBufferPointer { buffer in
            shuffle(buffer)
        }
    }

    /// Fisher-Yates shuffle of a buffer in place.
    public mutating func shuffle(_ buffer: UnsafeMutableBufferPointer<Int>) {
        var index = buffer.count - 1
        while index > 0 {
            let other = nextIndex(below: index + 1)
            buffer.swapAt(index, other)
            index -= 1
        }
    }

    @inline(__always)
    private func rotateLeft(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value << count) | (value >> (64 - count))
    }
}
