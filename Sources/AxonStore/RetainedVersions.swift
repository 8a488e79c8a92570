import Synchronization

/// Non-current versions the store has read from disk, most recently used last, behind a lock so
/// the inference routes can look one up without an actor hop. The store is its only writer: it
/// fills it on a read, and drops entries when a version is pruned or its model changes on disk
/// or is deleted, so no caller ever has to invalidate it.
final class RetainedVersions: Sendable {
    private struct Key: Hashable {
        var name: String
        var version: UInt64
    }

    private struct State {
        var models: [Key: StoredModel] = [:]
        var order: [Key] = []
    }

    private let state = Mutex(State())
    /// Versions kept decoded at most; each is a whole model in memory.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func model(_ name: String, version: UInt64) -> StoredModel? {
        let key = Key(name: name, version: version)
        return state.withLock { state in
            guard let hit = state.models[key] else { return nil }
            if state.order.last != key {
                state.order.removeAll { $0 == key }
                state.order.append(key)
            }
            return hit
        }
    }

    func insert(_ stored: StoredModel) {
        let key = Key(name: stored.name, version: stored.version)
        state.withLock { state in
            if state.models.updateValue(stored, forKey: key) == nil { state.order.append(key) }
            while state.order.count > capacity { state.models[state.order.removeFirst()] = nil }
        }
    }

    func remove(_ name: String, version: UInt64) {
        let key = Key(name: name, version: version)
        state.withLock { state in
            if state.models.removeValue(forKey: key) != nil { state.order.removeAll { $0 == key } }
        }
    }

    func removeAll(named name: String) {
        state.withLock { state in
            state.models = state.models.filter { $0.key.name != name }
            state.order.removeAll { $0.name == name }
        }
    }

    func removeAll() {
        state.withLock { $0 = State() }
    }
}
