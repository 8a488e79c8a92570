import Logging
import ServiceLifecycle

/// Runs one service in a ServiceGroup and triggers its graceful shutdown on demand.
struct ServiceGroupRunner: Sendable {
    private let group: ServiceGroup

    init(service: some Service) {
        group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], logger: quietLogger))
    }

    func run() async throws { try await group.run() }

    func shutdown() async { await group.triggerGracefulShutdown() }
}
