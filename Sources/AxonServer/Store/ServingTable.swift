import Synchronization

/// The current version of every model, behind one lock, so the predict path reads it without
/// an actor hop: a lookup holds the lock for one dictionary access and hands out a reference.
///
/// Only `ModelStore` writes it, and only after the new version is durable on disk.
final class ServingTable: Sendable {
    private let entries = Mutex<[String: StoredModel]>([:])

    /// The current version of `name`.
    func current(_ name: String) -> StoredModel? {
        entries.withLock { $0[name] }
    }

    /// Every current version, in no particular order.
    func all() -> [StoredModel] {
        entries.withLock { Array($0.values) }
    }

    /// How many models serve.
    var count: Int { entries.withLock { $0.count } }

    /// Makes `model` the current version of its name: one reference swap.
    func set(_ model: StoredModel) {
        entries.withLock { $0[model.name] = model }
    }

    /// Stops serving `name`.
    func remove(_ name: String) {
        _ = entries.withLock { $0.removeValue(forKey: name) }
    }

    /// Replaces the whole table (start-up).
    func replaceAll(_ models: [StoredModel]) {
        var table: [String: StoredModel] = [:]
        table.reserveCapacity(models.count)
        for model in models { table[model.name] = model }
        entries.withLock { $0 = table }
    }
}
