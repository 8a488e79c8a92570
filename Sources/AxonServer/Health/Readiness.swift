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

    /// A readiness flag in the `starting` phase.
    public init(_ phase: Phase = .starting) {
        value = Atomic(phase.rawValue)
    }

    /// The current phase.
    public var phase: Phase { Phase(rawValue: value.load(ordering: .acquiring)) ?? .starting }

    /// Marks the daemon ready, unless it is already draining (a drain is never undone).
    public func markReady() {
        _ = value.compareExchange(expected: Phase.starting.rawValue, desired: Phase.ready.rawValue, ordering: .acquiringAndReleasing)
    }

    /// Marks the daemon draining.
    public func markDraining() {
        value.store(Phase.draining.rawValue, ordering: .releasing)
    }
}
