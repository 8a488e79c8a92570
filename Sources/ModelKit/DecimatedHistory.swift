/// A per-epoch series kept in bounded memory: at most `capacity` evenly spaced points plus the
/// latest one, however many epochs run.
///
/// Points are kept every `stride` epochs; when the kept points fill the capacity, every other
/// one is dropped and the stride doubles. So a run of any length keeps between half and all of
/// the capacity, evenly spread from the first epoch, and the latest point is always there.
/// Nothing is ever reserved per epoch.
public struct DecimatedHistory<Element: Sendable>: Sendable {
    /// Points kept at most, besides the latest.
    public let capacity: Int
    private(set) var kept: [Element] = []
    private(set) var latest: Element?
    /// Points appended so far (the epoch count).
    public private(set) var appended = 0
    /// Every `stride`-th appended point is kept.
    public private(set) var stride = 1

    /// An empty history keeping at most `capacity` (at least 2) points besides the latest.
    public init(capacity: Int) {
        self.capacity = Swift.max(capacity, 2)
    }

    /// Adds the next point.
    public mutating func append(_ element: Element) {
        if appended % stride == 0 {
            if kept.count == capacity {
                kept = kept.enumerated().compactMap { $0.offset % 2 == 0 ? $0.element : nil }
                stride *= 2
            }
            if appended % stride == 0 { kept.append(element) }
        }
        latest = element
        appended += 1
    }

    /// The kept points in order, the latest last (once).
    public var elements: [Element] {
        guard let latest else { return kept }
        // The latest is among the kept ones when its index fell on the stride.
        return (appended - 1) % stride == 0 ? kept : kept + [latest]
    }
}
