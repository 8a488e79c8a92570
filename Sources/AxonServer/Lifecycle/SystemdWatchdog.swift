import AxonSupport
import AxonHTTP
import Foundation
import Logging
import Synchronization

/// Sends `WATCHDOG=1` every half `WatchdogSec` while the daemon runs, drain included (a drain
/// may last as long as the watchdog period).
///
/// It runs on a dedicated thread rather than the cooperative pool: training jobs may keep
/// every pool thread busy for minutes, and systemd must not kill a daemon for being busy. What
/// it proves is that the process is scheduled and not wedged in shutdown; that requests are
/// answered is what the HTTP probes (`/healthz`) check.
public final class SystemdWatchdog: Sendable {
    private let running = Atomic<Bool>(true)
    private let wake = Mutex<Void>(())

    /// Starts heartbeats, or returns nil when systemd asked for none (`WATCHDOG_USEC` unset).
    public init?(notifier: SystemdNotifier, logger: Logger) {
        guard notifier.isEnabled, let interval = notifier.watchdogInterval else { return nil }
        let (seconds, attoseconds) = (interval / 2).components
        let period = Double(seconds) + Double(attoseconds) / 1e18
        logger.info("systemd watchdog enabled", metadata: ["watchdog.period_s": "\(period)"])
        DedicatedThread.start("axon-watchdog") { [self] in
            notifier.watchdog()
            var next = Date().addingTimeInterval(period)
            while running.load(ordering: .acquiring) {
                // Short naps so stop() takes effect quickly even with a long period.
                Thread.sleep(forTimeInterval: min(0.1, max(0, next.timeIntervalSinceNow)))
                guard Date() >= next else { continue }
                let result = notifier.watchdog()
                if result != 0 { logger.warning("systemd watchdog heartbeat failed", metadata: ["errno": "\(-result)"]) }
                next = Date().addingTimeInterval(period)
            }
        }
    }

    /// Stops the heartbeats (within 100 ms).
    public func stop() {
        running.store(false, ordering: .releasing)
    }
}

/// Turns readiness transitions into notify messages: `READY=1` with the address when ready,
/// `STOPPING=1` when the drain starts.
struct SystemdReadinessReporter: Sendable {
    let notifier: SystemdNotifier
    let drainTimeout: Duration

    init(notifier: SystemdNotifier, configuration: DaemonConfiguration) {
        self.notifier = notifier
        drainTimeout = configuration.drainTimeout
    }

    func report(_ phase: Readiness.Phase) {
        switch phase {
        case .starting: notifier.status("starting")
        case .ready: notifier.ready(status: "ready")
        case .draining: notifier.stopping(status: "draining (timeout \(drainTimeout))")
        }
    }
}
