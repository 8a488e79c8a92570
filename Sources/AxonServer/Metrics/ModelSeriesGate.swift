import Synchronization

/// Keeps per-model series to the models that exist: a series labelled with a model is created
/// only while the store serves that model, and dropped with it.
///
/// The store attaches its serving table (`attach(serves:)`) and, after it stops serving a
/// model, calls `AxonMetrics.forget(model:)`, which drops the model's series under this gate's
/// lock. Series are created only under the same lock, after checking the table; so a recorder
/// racing a delete (a prediction or an epoch finishing as its model is deleted) either created
/// its series before the forget, which then drops it, or finds the model gone and creates
/// nothing. Without a store attached every model counts as existing (tools, tests).
final class ModelSeriesGate: Sendable {
    private let serves = Mutex<(@Sendable (String) -> Bool)?>(nil)

    /// Per-model series are created from now on only for models `serves` answers true for.
    func attach(serves: @escaping @Sendable (String) -> Bool) {
        self.serves.withLock { $0 = serves }
    }

    /// `create`'s result, run under the gate's lock, when `model` exists; nil when it does not.
    func ifExists<T: Sendable>(_ model: String, _ create: () -> T) -> T? {
        serves.withLock { serves -> T? in
            guard serves?(model) ?? true else { return nil }
            return create()
        }
    }

    /// Runs `drop` under the gate's lock, so no series of the model is created meanwhile.
    func dropping(_ drop: () -> Void) {
        serves.withLock { _ in drop() }
    }
}
