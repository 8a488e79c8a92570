import AxonHTTP
import AxonJobs
import AxonStore
import Dispatch
import ModelKit
import Synchronization

/// What the API routes share: the model store, the training jobs and the size limits.
public struct APIContext: Sendable {
    /// The models.
    public let store: ModelStore
    /// The training queue.
    public let jobs: JobScheduler
    /// The jobs' and models' Server-Sent Events (the scheduler's observer).
    public let events: JobEvents
    /// Request and model size limits (`limits.*`).
    public let limits: ServerLimits
    /// Where predictions are recorded; nil records nothing.
    public let inference: InferenceMetrics?
    /// Where predictions above `asyncThresholdFlops` and evaluations run.
    let pool: InferencePool
    /// Predictions costing more floating-point operations run in `pool` (`inference.async_threshold_flops`).
    let asyncThresholdFlops: Int

    /// A context over `store` and `jobs` enforcing `limits`, running large predictions and
    /// evaluations in a pool sized by `inference`, recording predictions into `metrics` (nil
    /// records nothing).
    public init(
        store: ModelStore, jobs: JobScheduler, events: JobEvents, limits: ServerLimits, inference: InferenceConfiguration = InferenceConfiguration(),
        metrics: AxonMetrics? = nil
    ) {
        self.store = store
        self.jobs = jobs
        self.events = events
        self.limits = limits
        self.inference = metrics?.inference
        let pool = InferencePool(inference)
        self.pool = pool
        metrics?.inference.observePool(
            waiting: { [weak pool] in pool?.waiting ?? 0 }, busy: { [weak pool] in pool?.busy ?? 0 },
            rejected: { [weak pool] in pool?.rejected ?? 0 })
        self.asyncThresholdFlops = inference.asyncThresholdFlops
    }

    /// Stops the inference pool once what it holds has been answered. Call after the server stopped.
    public func shutdown() {
        pool.shutdown()
    }

    /// The serving snapshot of `name`, or of `version` when given, without waiting: the current
    /// version is a lock-protected read, and so is a retained one the store has in memory. One
    /// only on disk throws `VersionNotInMemory`, which `deferrable` turns into a read on the pool.
    func model(_ name: String, version: UInt64?) throws -> StoredModel {
        guard let current = store.current(name) else {
            _ = try ModelStore.validate(name)
            throw StoreError.modelNotFound(name: name)
        }
        guard let version, version != current.version else { return current }
        if let retained = store.retainedModel(name: name, version: version) { return retained }
        throw VersionNotInMemory(name: name, version: version)
    }

    /// Reads `miss`'s version into the store's memory. Blocks its thread on the store actor
    /// (disk I/O), so it runs on the inference pool, never on a polling thread.
    private func load(_ miss: VersionNotInMemory) throws {
        let store = self.store
        _ = try waitForTask { try await store.model(name: miss.name, version: miss.version) }
    }

    /// `parse(request)`, first reading the version it asks for from disk if need be. Blocks on
    /// a miss: call it where `load` may (the pool).
    func parseLoading(
        _ request: Request, _ parse: @Sendable (Request) throws -> PendingPrediction
    ) throws -> PendingPrediction {
        do {
            return try parse(request)
        } catch let miss as VersionNotInMemory {
            try load(miss)
            return try parse(request)
        }
    }

    /// Runs `input` through `stored` and records the call (rows, compute time, batch size)
    /// when metrics are on. Only the compute is timed, so every route measures the same thing.
    func predict(_ stored: StoredModel, _ input: InferenceRows) throws(APIError) -> [Float] {
        guard let inference else { return try Inference.run(stored, input) }
        let start = MonotonicClock.nanoseconds()
        let outputs = try Inference.run(stored, input)
        let elapsed = MonotonicClock.nanoseconds() &- start
        series(of: stored, in: inference)?.record(rows: input.rows, nanoseconds: elapsed)
        return outputs
    }

    /// The series `stored` records into, from `InferenceMetrics`' cache by snapshot identity (a
    /// prediction costs no hashing of the name and no registry lookup); nil once the model is deleted.
    private func series(of stored: StoredModel, in inference: InferenceMetrics) -> InferenceMetrics.Series? {
        inference.series(for: stored)
    }

    /// A body at least this long is parsed on the pool, not the polling thread: parsing JSON
    /// numbers costs about as much per byte as `flopsPerBodyByte` floating-point operations of
    /// a forward pass, so this is the body whose parsing alone would cost the threshold.
    var poolBodyBytes: Int { asyncThresholdFlops / Self.flopsPerBodyByte }

    /// Floating-point operations of a forward pass that cost as much time as parsing one byte of
    /// a JSON body: about 15 ns a byte against 0.035 ns a flop on the 2-core machine
    /// (Benchmarks/isolation/README.md), so a 25 KB body parses in about the time 10^7 flops take.
    static let flopsPerBodyByte = 400

    /// Where an inference request runs. A large body goes to the pool before it is parsed;
    /// a smaller one is parsed here, and its prediction's cost (`InferenceRows.flops`, in
    /// floating-point operations) decides: up to `asyncThresholdFlops` it answers on the polling
    /// thread, the fastest path; above, in the pool, so the polling thread keeps answering
    /// cheap requests meanwhile.
    func deferrable(_ parse: @escaping @Sendable (Request) throws -> PendingPrediction) -> Router.DeferrableHandler {
        { request in
            if request.body.count >= poolBodyBytes {
                return .later(on: pool) { try answer(parseLoading(request, parse)) }
            }
            let pending: PendingPrediction
            do {
                pending = try parse(request)
            } catch is VersionNotInMemory {
                return .later(on: pool) { try answer(parseLoading(request, parse)) }
            }
            guard pending.input.flops > asyncThresholdFlops else { return .now(try answer(pending)) }
            return .later(on: pool) { try answer(pending) }
        }
    }

    /// Runs a parsed prediction and writes its answer.
    private func answer(_ pending: PendingPrediction) throws -> Response {
        try pending.answer(predict(pending.stored, pending.input))
    }

    /// Parses a version path segment.
    static func version(_ text: String) throws(APIError) -> UInt64 {
        guard let value = UInt64(text), value > 0 else {
            throw .badRequest("version must be a positive integer, got \"\(text)\"", code: "invalid_version")
        }
        return value
    }
}

extension Router {
    /// Registers an asynchronous `GET` at `template` (the current version) and at `versioned`,
    /// whose `{version}` segment is parsed and passed on (nil for `template`).
    mutating func get<R: ResponseGenerator>(
        _ template: String, versioned: String, async handler: @escaping @Sendable (Request, UInt64?) async throws -> R
    ) {
        get(template, async: { request in try await handler(request, nil) })
        get(versioned, async: { request in try await handler(request, APIContext.version(request.parameters.require("version"))) })
    }

    /// Registers an inference `POST` at `template` and at `versioned`, as the `GET` above, run
    /// where `context.deferrable` decides.
    mutating func post(
        _ template: String, versioned: String, context: APIContext,
        _ parse: @escaping @Sendable (Request, UInt64?) throws -> PendingPrediction
    ) {
        post(template, deferrable: context.deferrable { request in try parse(request, nil) })
        post(versioned, deferrable: context.deferrable { request in
            try parse(request, APIContext.version(request.parameters.require("version")))
        })
    }
}

/// An inference request parsed and checked against its model, not yet run: the model, the
/// rows, and how its protocol writes the outputs.
struct PendingPrediction: Sendable {
    /// The model version to run.
    let stored: StoredModel
    /// The rows to run it on.
    let input: InferenceRows
    /// The protocol's answer for the outputs (`rows x outputWidth`).
    let answer: @Sendable ([Float]) throws -> Response
}

/// A retained version a synchronous route asked for that the store has only on disk.
struct VersionNotInMemory: Error {
    let name: String
    let version: UInt64
}

/// Runs `operation` in a Task and blocks the calling thread until it finishes. Only for
/// threads outside the cooperative pool (libmicrohttpd threads, training threads).
func waitForTask<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await operation())
        } catch {
            outcome = .failure(error)
        }
        result.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}
