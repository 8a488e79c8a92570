import AxonJobs
import AxonStore
import Logging
import TestKit

/// A store over `directory` that has loaded what is there.
func loadedStore(
    _ directory: TemporaryDirectory, retained: Int = 5, maxModels: Int = 1_000, logger: Logger = quietLogger
) async -> ModelStore {
    let store = ModelStore(stateDirectory: directory.path, retainedVersions: retained, maxModels: maxModels, logger: logger)
    await store.load()
    return store
}

extension JobScheduler {
    /// The scheduler most tests want: `maxRunning` jobs at a time (one), `maxQueued` more
    /// waiting (ten), nothing logged.
    convenience init(
        testing store: ModelStore, maxRunning: Int = 1, maxQueued: Int = 10, lockTimeout: Duration = .seconds(600),
        retain: Int = 1_000, logger: Logger = quietLogger, observer: (any JobObserver)? = nil
    ) {
        self.init(
            store: store, maxRunning: maxRunning, maxQueued: maxQueued, lockTimeout: lockTimeout, retain: retain, logger: logger,
            observer: observer)
    }
}

/// A fresh state directory, a store that has loaded it, and a scheduler over the store (as
/// `JobScheduler(testing:)`) that has taken over the directory's job records, as a starting
/// daemon does. The caller removes the directory.
func freshJobs(
    maxRunning: Int = 1, maxQueued: Int = 10, lockTimeout: Duration = .seconds(600), retain: Int = 1_000,
    observer: (any JobObserver)? = nil
) async throws -> (TemporaryDirectory, ModelStore, JobScheduler) {
    let directory = try TemporaryDirectory()
    let store = await loadedStore(directory)
    let jobs = JobScheduler(
        testing: store, maxRunning: maxRunning, maxQueued: maxQueued, lockTimeout: lockTimeout, retain: retain, observer: observer)
    jobs.restore(stateDirectory: directory.path)
    return (directory, store, jobs)
}
