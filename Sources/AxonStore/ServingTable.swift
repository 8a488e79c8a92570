#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The current version of every model, behind one reader-writer lock, so the predict path
/// reads it without an actor hop: a lookup holds the read lock for one dictionary access and
/// hands out a reference; readers never wait for each other.
///
/// Only `ModelStore` writes it, and only after the new version is durable on disk. A
/// `pthread_rwlock_t` rather than `Synchronization.Mutex`: ThreadSanitizer understands it, so
/// sanitizer runs of the store stay free of false reports.
final class ServingTable: @unchecked Sendable {
    // Allocated once and never moved: a pthread lock must keep its address.
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    // Guarded by `lock`.
    private var entries: [String: StoredModel] = [:]

    init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        let status = pthread_rwlock_init(lock, nil)
        precondition(status == 0, "pthread_rwlock_init failed: \(status)")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    private func reading<T>(_ body: ([String: StoredModel]) -> T) -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return body(entries)
    }

    private func writing(_ body: (inout [String: StoredModel]) -> Void) {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        body(&entries)
    }

    /// The current version of `name`.
    func current(_ name: String) -> StoredModel? {
        // Direct access rather than `reading`: passing the dictionary to a closure would
        // retain and release its storage on every request.
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return entries[name]
    }

    /// Every current version, in no particular order.
    func all() -> [StoredModel] {
        reading { Array($0.values) }
    }

    /// How many models serve.
    var count: Int { reading { $0.count } }

    /// Makes `model` the current version of its name: one reference swap.
    func set(_ model: StoredModel) {
        writing { $0[model.name] = model }
    }

    /// Stops serving `name`.
    func remove(_ name: String) {
        writing { $0[name] = nil }
    }

    /// Replaces the whole table (start-up).
    func replaceAll(_ models: [StoredModel]) {
        var table: [String: StoredModel] = [:]
        table.reserveCapacity(models.count)
        for model in models { table[model.name] = model }
        writing { $0 = table }
    }
}
