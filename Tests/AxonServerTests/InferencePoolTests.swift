@testable import AxonHTTP
import Checkpoint
import Dispatch
import Foundation
import ModelKit
import Synchronization
import TestKit
import Testing

@testable import AxonServer

/// A context over a fresh store holding `model` (the 4 -> 8 -> 3 classifier by default) as
/// "m", with `inference`.
private func classifierContext(
    _ directory: TemporaryDirectory, inference: InferenceConfiguration, model: Model? = nil
) async throws -> APIContext {
    let daemon = await loadedDaemon(stateDirectory: directory.path)
    try await daemon.store.install(name: "m", model: model ?? StoreFixtures.model(seed: 5), metadata: ModelMetadata())
    return APIContext(store: daemon.store, jobs: daemon.jobs, events: daemon.events, limits: ServerLimits(), inference: inference)
}

private func inference(threads: Int = 1, queueLimit: Int = 64, thresholdFlops: Int = 10_000_000) -> InferenceConfiguration {
    var configuration = InferenceConfiguration()
    configuration.threads = threads
    configuration.queueLimit = queueLimit
    configuration.asyncThresholdFlops = thresholdFlops
    return configuration
}

/// The router's handler for `POST path`, which must be deferrable.
private func deferrable(_ router: Router, _ path: String) throws -> (Router.DeferrableHandler, Parameters) {
    guard case .found(.deferrable(let handler), _, let parameters) = router.match(method: .post, path: path) else {
        throw TestFailure("POST \(path) is not a deferrable route")
    }
    return (handler, parameters)
}

private func request(_ path: String, _ parameters: Parameters, json: String) -> Request {
    var request = Request(method: .post, path: path, headers: ["Content-Type": "application/json"], body: Array(json.utf8))
    request.parameters = parameters
    return request
}

/// `rows` rows of four values for "m".
private func rowsJSON(_ rows: Int) -> String {
    "[" + (0 ..< rows).map { "[\(Double($0 % 7) * 0.25),-1,0.5,2]" }.joined(separator: ",") + "]"
}

/// Holds every thread of `pool` until `release()`: work queued behind it waits.
private final class PoolBlocker: Sendable {
    private let gate = DispatchSemaphore(value: 0)
    private let entered = DispatchSemaphore(value: 0)
    private let left = DispatchSemaphore(value: 0)

    init(_ pool: InferencePool) throws {
        for _ in 0 ..< pool.threads {
            try pool.execute({ [gate, entered] in
                entered.signal()
                gate.wait()
            }, then: { [left] in left.signal() })
        }
        for _ in 0 ..< pool.threads { entered.wait() }
    }

    /// Lets the blocked threads go and returns once each counts as free again.
    func release(_ pool: InferencePool) {
        for _ in 0 ..< pool.threads { gate.signal() }
        for _ in 0 ..< pool.threads { left.wait() }
    }
}

extension InferencePool {
    /// Queues work with nothing to deliver.
    func execute(_ work: @escaping @Sendable () -> Void) throws {
        try execute(work, then: { _ in })
    }
}

@Suite("Inference pool")
struct InferencePoolTests {
    @Test func queuesUpToItsLimitThenRefusesWithOverloadedAndRetryAfter() throws {
        let pool = InferencePool(threads: 2, queueLimit: 3)
        defer { pool.shutdown() }
        let blocker = try PoolBlocker(pool)
        let ran = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        for _ in 0 ..< 3 {
            try pool.execute {
                ran.add(1, ordering: .relaxed)
                done.signal()
            }
        }
        #expect(pool.waiting == 3)
        do {
            try pool.execute {}
            Issue.record("a fourth waiting request was queued past inference.queue_limit 3")
        } catch let error as APIError {
            #expect(error.status == .serviceUnavailable)
            #expect(error.code == "overloaded")
            #expect(error.headers["Retry-After"] == "1")
            #expect(error.message.contains("inference.queue_limit") && error.message.contains("inference.threads"))
        }
        blocker.release(pool)
        for _ in 0 ..< 3 { done.wait() }
        #expect(ran.load(ordering: .relaxed) == 3)
    }

    @Test("the pool's waiting requests, busy threads and overloaded refusals are in /metrics")
    func poolLoadIsScraped() throws {
        let metrics = AxonMetrics()
        let pool = InferencePool(threads: 1, queueLimit: 1)
        defer { pool.shutdown() }
        metrics.inference.observePool(waiting: { pool.waiting }, busy: { pool.busy }, rejected: { pool.rejected })
        func value(_ name: String) -> String? {
            String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n")
                .first { $0.hasPrefix(name + " ") }.map { String($0.dropFirst(name.count + 1)) }
        }
        #expect(value("axon_inference_pool_busy_threads") == "0.0")
        let blocker = try PoolBlocker(pool)
        let done = DispatchSemaphore(value: 0)
        try pool.execute { done.signal() }
        #expect(throws: APIError.overloaded(threads: 1, queueLimit: 1)) { try pool.execute {} }
        #expect(throws: APIError.overloaded(threads: 1, queueLimit: 1)) { try pool.execute {} }
        #expect(value("axon_inference_pool_busy_threads") == "1.0")
        #expect(value("axon_inference_pool_waiting") == "1.0")
        #expect(value("axon_inference_pool_rejections_total") == "2")
        blocker.release(pool)
        done.wait()
        // Counted once: a second scrape adds nothing new.
        #expect(value("axon_inference_pool_rejections_total") == "2")
        #expect(value("axon_inference_pool_waiting") == "0.0")
    }

    @Test("a scraped counter keeps counting when its source restarts from zero")
    func scrapedCounterSurvivesASourceRestart() {
        let metrics = AxonMetrics()
        let source = Atomic<Int>(0)
        metrics.http.observeTimeouts { source.load(ordering: .relaxed) }
        func total() -> String? {
            String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n")
                .first { $0.hasPrefix("axon_http_request_timeouts_total ") }.map { String($0.split(separator: " ")[1]) }
        }
        source.store(3, ordering: .relaxed)
        #expect(total() == "3")
        source.store(0, ordering: .relaxed)  // the server stopped and started again
        #expect(total() == "3")
        source.store(2, ordering: .relaxed)
        #expect(total() == "5")
    }

    @Test func aZeroQueueLimitStillRunsOneRequestPerIdleThread() throws {
        let pool = InferencePool(threads: 1, queueLimit: 0)
        defer { pool.shutdown() }
        // The idle thread takes the blocker although nothing may wait.
        let blocker = try PoolBlocker(pool)
        #expect(throws: APIError.overloaded(threads: 1, queueLimit: 0)) { try pool.execute {} }
        blocker.release(pool)
    }

    @Test func runReturnsTheResultOrTheErrorOfItsWork() async throws {
        let pool = InferencePool(threads: 1, queueLimit: 4)
        defer { pool.shutdown() }
        #expect(try await pool.run { 6 * 7 } == 42)
        await #expect(throws: APIError.badRequest("no")) { try await pool.run { () throws -> Int in throw APIError.badRequest("no") } }
    }

    @Test func afterShutdownQueuedWorkRunsAndNewWorkIsRefused() throws {
        let pool = InferencePool(threads: 1, queueLimit: 4)
        let blocker = try PoolBlocker(pool)
        let done = DispatchSemaphore(value: 0)
        try pool.execute { done.signal() }
        pool.shutdown()
        #expect(throws: APIError.draining) { try pool.execute {} }
        blocker.release(pool)
        done.wait()
    }

    @Test func cheapPredictionsAnswerOnThePollingThreadCostlyOnesInThePool() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Wide enough that compute, not parsing, dominates: 134,656 flops a row, about 20
        // body bytes a row; the threshold is the cost of 100 rows.
        let configuration = try ModelConfiguration(
            layerSizes: [4, 256, 256, 3], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy)
        let threshold = configuration.predictionCost(rows: 100).flops
        #expect(threshold == 13_465_600)
        let context = try await classifierContext(
            directory, inference: inference(thresholdFlops: threshold), model: Model(configuration: configuration, seed: 3))
        var router = Router()
        APIRoutes.register(on: &router, context: context)
        let cases: [(path: String, body: (Int) -> String)] = [
            ("/predict", { #"{"model":"m","inputs":\#(rowsJSON($0))}"# }),
            ("/v1/models/m:predict", { #"{"instances":\#(rowsJSON($0))}"# }),
            ("/v1/models/m/versions/1:predict", { #"{"instances":\#(rowsJSON($0))}"# }),
            ("/v2/models/m/infer", { #"{"inputs":[{"name":"input","shape":[\#($0),4],"datatype":"FP32","data":\#(rowsJSON($0))}]}"# }),
        ]
        for (path, body) in cases {
            let (handler, parameters) = try deferrable(router, path)
            guard case .now(let small) = try handler(request(path, parameters, json: body(100))) else {
                Issue.record("\(path): 100 rows (the threshold) did not answer on the polling thread")
                continue
            }
            #expect(small.status == .ok, "\(path)")
            guard case .later(let executor, let work) = try handler(request(path, parameters, json: body(101))) else {
                Issue.record("\(path): 101 rows (above the threshold) did not go to the pool")
                continue
            }
            #expect(executor as? InferencePool === context.pool, "\(path)")
            let large = try work()
            #expect(large.status == .ok, "\(path)")
            // The pool's answer is the polling thread's, row for row.
            guard case .now(let inline) = try handler(request(path, parameters, json: body(100))) else { continue }
            #expect(inline.body == small.body, "\(path)")
        }
    }

    @Test func aLargeBodyGoesToThePoolBeforeItIsParsed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // A body of poolBodyBytes (threshold / 400 = 250 bytes) or more is not parsed here.
        let context = try await classifierContext(directory, inference: inference(thresholdFlops: 100_000))
        #expect(context.poolBodyBytes == 250)
        var router = Router()
        APIRoutes.register(on: &router, context: context)
        let (handler, parameters) = try deferrable(router, "/predict")
        let broken = #"{"model":"m","inputs":[["# + String(repeating: "1,", count: 600)
        guard case .later(_, let work) = try handler(request("/predict", parameters, json: broken)) else {
            Issue.record("a 1,200-byte body was parsed on the polling thread")
            return
        }
        // Its parse errors come from the pool, as they would have from the polling thread.
        #expect(throws: APIError.self) { try work() }
        let shortBroken = #"{"model":"m","inputs":[[1,"#
        #expect(throws: APIError.self) { try handler(request("/predict", parameters, json: shortBroken)) }
    }

    @Test func overloadAnswers503OnEveryInferenceRouteAndEvaluateLive() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        // Threshold 0: every prediction goes to the pool; one thread, nobody may wait.
        let context = try await classifierContext(directory, inference: inference(threads: 1, queueLimit: 0, thresholdFlops: 0))
        defer { context.shutdown() }
        var router = Router()
        APIRoutes.register(on: &router, context: context)
        let predict = #"{"model":"m","inputs":[[1,2,3,4]]}"#
        try await withServer(router: router, configuration: testConfiguration(maxBodyBytes: 1 << 20)) { _, port in
            let before = try await call(port, "POST", "/predict", json: predict)
            #expect(before.status == 200)
            let blocker = try PoolBlocker(context.pool)
            let requests: [(String, String)] = [
                ("/predict", predict),
                ("/v1/models/m:predict", #"{"instances":[[1,2,3,4]]}"#),
                ("/v2/models/m/infer", #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"#),
                ("/models/m/evaluate", #"{"inputs":[[1,2,3,4]],"targets":[1]}"#),
            ]
            for (path, body) in requests {
                let refused = try await call(port, "POST", path, json: body)
                #expect(refused.status == 503, "\(path)")
                #expect(refused.header("Retry-After") == "1", "\(path)")
                #expect(refused.object["error"].flatMap { ($0 as? [String: Any])?["code"] as? String } == "overloaded", "\(path): \(String(decoding: refused.body, as: UTF8.self))")
            }
            blocker.release(context.pool)
            let after = try await call(port, "POST", "/predict", json: predict)
            #expect(after.status == 200)
            #expect(after.body == before.body)
            let evaluated = try await call(port, "POST", "/models/m/evaluate", json: #"{"inputs":[[1,2,3,4]],"targets":[1]}"#)
            #expect(evaluated.status == 200)
        }
    }
}
