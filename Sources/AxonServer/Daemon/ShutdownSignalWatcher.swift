import CHTTPShim
import Foundation
import Logging
import Synchronization

/// Turns SIGTERM/SIGINT into a graceful shutdown. A dedicated thread waits on the shim's signal
/// pipe (never the cooperative pool) and calls `onSignal` once; later signals are logged only.
public final class ShutdownSignalWatcher: Sendable {
    /// Failure to install the signal handlers.
    public struct InstallError: Error, CustomStringConvertible {
        /// The negative errno from the shim.
        public let code: Int32
        /// What failed.
        public var description: String { "cannot install shutdown signal handlers (errno \(-code))" }
    }

    private let running = Atomic<Bool>(true)

    /// Installs the handlers and starts watching.
    public init(signals: [Int32], logger: Logger, onSignal: @escaping @Sendable () async -> Void) throws {
        let result = signals.withUnsafeBufferPointer { hs_signals_install($0.baseAddress, $0.count) }
        guard result == 0 else { throw InstallError(code: result) }
        let thread = Thread { [self] in
            var delivered = false
            // Wakes every 200 ms to notice stop(); the wait itself is a poll on the pipe.
            while self.running.load(ordering: .acquiring) {
                let signal = hs_signals_wait(200)
                guard signal > 0 else { continue }
                if delivered {
                    logger.notice("shutdown already in progress", metadata: ["signal": "\(signal)"])
                    continue
                }
                delivered = true
                logger.notice("shutdown signal received; draining", metadata: ["signal": "\(signal)"])
                Task { await onSignal() }
            }
        }
        thread.name = "axon-signals"
        thread.start()
    }

    /// Stops the watcher thread (within 200 ms); the handlers stay installed.
    public func stop() {
        running.store(false, ordering: .releasing)
    }
}
