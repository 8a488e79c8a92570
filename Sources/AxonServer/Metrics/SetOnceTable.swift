import Synchronization

/// A fixed-size open-addressing table whose slots are written once and then only read, for the
/// metric handles requests look up: a lookup is a few atomic loads, with no lock and no reference
/// counting of the table itself.
///
/// Entries are never replaced or removed, so a reader can use what it loaded without any
/// reclamation scheme; each entry stays alive (retained by its slot) as long as the table.
/// Callers keep what does not fit (`insert` returns false) elsewhere.
final class SetOnceTable<Entry: AnyObject & Sendable>: Sendable {
    private final class Slot: Sendable {
        // The entry's retained pointer bits; 0 while empty.
        let bits = Atomic<UInt>(0)
    }

    private let slots: [Slot]
    private let mask: Int
    // Probes before a lookup or insert gives up: keeps a nearly full table from costing a scan.
    private static var maxProbes: Int { 8 }

    /// A table of `capacity` slots (rounded up to a power of two).
    init(capacity: Int) {
        var size = 1
        while size < capacity { size <<= 1 }
        slots = (0..<size).map { _ in Slot() }
        mask = size - 1
    }

    /// The entry stored under `hash` for which `matches` holds, nil when there is none.
    @inline(__always)
    func find(hash: Int, where matches: (Entry) -> Bool) -> Entry? {
        var index = hash & mask
        for _ in 0..<Self.maxProbes {
            let bits = slots[index].bits.load(ordering: .acquiring)
            guard bits != 0 else { return nil }
            let entry = Unmanaged<Entry>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).takeUnretainedValue()
            if matches(entry) { return entry }
            index = (index + 1) & mask
        }
        return nil
    }

    /// Stores `entry` under `hash` in the first empty slot of its probe sequence. Returns false
    /// when those slots are all taken. Callers serialize inserts of equal keys (the table does
    /// not check for duplicates).
    func insert(_ entry: Entry, hash: Int) -> Bool {
        let retained = UInt(bitPattern: Unmanaged.passRetained(entry).toOpaque())
        var index = hash & mask
        for _ in 0..<Self.maxProbes {
            if slots[index].bits.compareExchange(expected: 0, desired: retained, ordering: .releasing).exchanged {
                return true
            }
            index = (index + 1) & mask
        }
        Unmanaged<Entry>.fromOpaque(UnsafeRawPointer(bitPattern: retained)!).release()
        return false
    }

    deinit {
        for slot in slots {
            let bits = slot.bits.load(ordering: .acquiring)
            if bits != 0 { Unmanaged<Entry>.fromOpaque(UnsafeRawPointer(bitPattern: bits)!).release() }
        }
    }
}
