import Synchronization

/// Whether the daemon should receive traffic. Starts `starting`; the application marks it
/// `ready` once its state has loaded, and `draining` when shutdown begins.
public final class Readiness: Sendable {
    /// The readiness phases, in the order a daemon passes through them.
    public enum Phase: UInt8, Sendable, CustomStringConvertible {
        /// State is still loading.
        case starting = 0
        /// Serving.
        case ready = 1
        /// Shutting down; load balancers should stop sending.
        case draining = 2

        /// The phase name.
        public var description: String {
            switch self {
            case .starting: "starting"
            case .ready: "ready"
            case .draining: "draining"
            }
        }
    }

    private let value: Atomic<UInt8>
    private let onChange: @Sendable (Phase) -> Void

    /// A readiness flag in `phase`; `onChange` runs once per transition (e.g. to tell systemd),
    /// on the thread that made it.
    public init(_ phase: Phase = .starting, onChange: @escaping @Sendable (Phase) -> Void = { _ in }) {
        value = Atomic(phase.rawValue)
        self.onChange = onChange
    }

    /// The current phase.
    public var phase: Phase { Phase(rawValue: value.load(ordering: .acquiring)) ?? .starting }

    /// Marks the daemon ready, unless it is already draining (a drain is never undone).
    public func markReady() {
        let (exchanged, _) = value.compareExchange(
            expected: Phase.starting.rawValue, desired: Phase.ready.rawValue, ordering: .acquiringAndReleasing)
        if exchanged { onChange(.ready) }
    }

    /// Marks the daemon draining.
    public func markDraining() {
        let previous = value.exchange(Phase.draining.rawValue, ordering: .acquiringAndReleasing)
        if previous != Phase.draining.rawValue { onChange(.draining) }
    }
}
