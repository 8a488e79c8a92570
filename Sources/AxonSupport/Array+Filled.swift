extension Array {
    /// `count` copies of `value`, like `init(repeating:count:)`, but allocated by code
    /// specialized for `Element`: `init(repeating:count:)` allocates through the standard
    /// library's unspecialized path, which looks the storage type's metadata up at run time
    /// (about 500 instructions an array, on the path of every prediction).
    @inlinable
    public static func filled(with value: Element, count: Int) -> [Element] {
        var array: [Element] = []
        array.reserveCapacity(count)
        for _ in 0 ..< count { array.append(value) }
        return array
    }
}
