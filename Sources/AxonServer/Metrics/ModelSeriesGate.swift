import Foundation

/// Keeps per-model series to the models that exist: a series labelled with a model is created
/// only while the store serves that model, and dropped with it.
///
/// The store attaches its serving table (`attach(serves:)`) and, after it stops serving a
/// model, calls `AxonMetrics.forget(model:)`, which drops the model's series under this gate's
/// lock. Series are created only under the same lock, after checking the table; so a recorder
/// racing a delete (a prediction or an epoch finishing as its model is deleted) either created
/// its series before the forget, which then drops it, or finds the model gone and creates
/// nothing. Without a store attached every model counts as existing (tools, tests).
///
/// An `NSLock` rather than a `Mutex`: `Mutex.withLock` returning the generic, optional result
/// leaked one object per call here (heaptrack: one per training epoch, about 30 MiB a day for a
/// daemon that trains all the time), seen with Swift 6.3.1.
final class ModelSeriesGate: @unchecked Sendable {
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var serves: (@Sendable (String) -> Bool)?

    /// Per-model series are created from now on only for models `serves` answers true for.
    func attach(serves: @escaping @Sendable (String) -> Bool) {
        lock.lock()
        defer { lock.unlock() }
        self.serves = serves
    }

    /// `create`'s result, run under the gate's lock, when `model` exists; nil when it does not.
    func ifExists<T>(_ model: String, _ create: () -> T) -> T? {
        lock.lock()
        defer { lock.unlock() }
        guard serves?(model) ?? true else { return nil }
        return create()
    }

    /// Runs `drop` under the gate's lock, so no series of the model is created meanwhile.
    func dropping(_ drop: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        drop()
    }
}
