@testable import AxonHTTP
@testable import AxonStore
import Checkpoint
import Foundation
import ModelKit
import Testing

@testable import AxonServer

/// The lock-free lookup behind `HTTPMetrics.requestFinished` and where `axon_build_info` gets its
/// commit: what a scrape shows must not depend on how handles are cached.
@Suite("Metrics hot path and build info")
struct MetricsHotPathTests {
    /// Each sample line's series (name and labels) -> its value.
    private func samples(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            result[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return result
    }

    private func value(_ text: String, _ series: String) -> String? {
        samples(text)[series]
    }

    @Test func everyRouteMethodAndStatusKeepsItsOwnCountBeyondTheTableSizes() {
        let metrics = AxonMetrics()
        // 150 routes exceed the 128-slot route table and 80 statuses the 64-slot counter table, so
        // both the tables and the overflow dictionaries are exercised.
        let routes = (0..<150).map { "/r\($0)/{x}" }
        for (index, route) in routes.enumerated() {
            for _ in 0...(index % 3) {
                metrics.http.requestFinished(route: route, method: .post, status: 200, requestBytes: 1, responseBytes: 2, nanoseconds: 1_000)
            }
        }
        for status in 200..<280 {
            metrics.http.requestFinished(route: "/many", method: .get, status: status, requestBytes: 0, responseBytes: 0, nanoseconds: 1_000)
            metrics.http.requestFinished(route: "/many", method: .delete, status: status, requestBytes: 0, responseBytes: 0, nanoseconds: 1_000)
        }
        let found = samples(String(decoding: metrics.exposition(), as: UTF8.self))
        for (index, route) in routes.enumerated() {
            #expect(found[#"axon_http_requests_total{route="\#(route)",method="POST",status="200"}"#] == "\(index % 3 + 1)")
            #expect(found[#"axon_http_request_bytes_total{route="\#(route)"}"#] == "\(index % 3 + 1)")
            #expect(found[#"axon_http_request_duration_seconds_count{route="\#(route)"}"#] == "\(index % 3 + 1)")
        }
        for status in 200..<280 {
            #expect(found[#"axon_http_requests_total{route="/many",method="GET",status="\#(status)"}"#] == "1")
            #expect(found[#"axon_http_requests_total{route="/many",method="DELETE",status="\#(status)"}"#] == "1")
        }
        #expect(found[#"axon_http_request_duration_seconds_count{route="/many"}"#] == "160")
    }

    @Test func methodsThatOnlyLookStandardAreOther() {
        let metrics = AxonMetrics()
        // Same first byte and length as POST, PUT, GET: the cheap guess must be confirmed.
        for token in ["PXST", "PUX", "GOT", "post", "HEAD", "PATCH", "OPTIONS"] {
            metrics.http.requestFinished(
                route: "/m", method: HTTPMethod(rawValue: token), status: 200, requestBytes: 0, responseBytes: 0, nanoseconds: 1)
        }
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(value(text, #"axon_http_requests_total{route="/m",method="other",status="200"}"#) == "4")
        for method in ["HEAD", "PATCH", "OPTIONS"] {
            #expect(value(text, #"axon_http_requests_total{route="/m",method="\#(method)",status="200"}"#) == "1")
        }
    }

    @Test func concurrentFirstRequestsCountEveryRequestOnce() async {
        let metrics = AxonMetrics()
        let http = metrics.http
        // Eight tasks race to create the same and different series; none may be lost or doubled.
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for request in 0..<500 {
                        http.requestFinished(
                            route: "/race/\(request % 5)", method: .get, status: 200 + task % 2, requestBytes: 0, responseBytes: 1,
                            nanoseconds: 10)
                    }
                }
            }
        }
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        for route in 0..<5 {
            #expect(value(text, #"axon_http_requests_total{route="/race/\#(route)",method="GET",status="200"}"#) == "400")
            #expect(value(text, #"axon_http_requests_total{route="/race/\#(route)",method="GET",status="201"}"#) == "400")
            #expect(value(text, #"axon_http_response_bytes_total{route="/race/\#(route)"}"#) == "800")
        }
    }

    @Test func nanosecondInferenceRecordsMatchDurationRecords() throws {
        let metrics = AxonMetrics()
        let series = try #require(metrics.inference.series(model: "m", version: 1))
        series.record(rows: 3, nanoseconds: 70_000)
        series.record(rows: 1, duration: .microseconds(70))
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(value(text, #"axon_inference_predict_duration_seconds_bucket{model="m",le="0.0001"}"#) == "2")
        #expect(value(text, #"axon_inference_predict_duration_seconds_bucket{model="m",le="0.00005"}"#) == "0")
        #expect(value(text, #"axon_inference_rows_total{model="m",version="1"}"#) == "4")
    }

    @Test func aSnapshotsSeriesIsCachedUntilItsModelIsForgotten() throws {
        let metrics = AxonMetrics()
        let configuration = try ModelConfiguration(layerSizes: [3, 1], activations: [.identity], loss: .huber(delta: 1.5))
        let model = Model(configuration: configuration, seed: 4)
        let stored = StoredModel(
            name: "m", version: 1, model: model, metadata: ModelMetadata(createdAt: Date(timeIntervalSince1970: 0)),
            hasOptimizerState: false)
        let first = try #require(metrics.inference.series(for: stored))
        #expect(metrics.inference.series(for: stored) === first)
        first.record(rows: 2, nanoseconds: 10)
        metrics.forget(model: "m")
        // Deleted and created again under the same name and version: the cached series was
        // unregistered, so the snapshot must get a new one that scrapes show.
        let again = try #require(metrics.inference.series(for: stored))
        #expect(again !== first)
        again.record(rows: 5, nanoseconds: 10)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(value(text, #"axon_inference_rows_total{model="m",version="1"}"#) == "5")
    }

    @Test func theEnvironmentOverridesTheEmbeddedCommit() {
        #expect(AxonBuildInfo.resolveCommit(environment: "v1.2-3-gabc", embedded: "0123456789ab") == "v1.2-3-gabc")
        #expect(AxonBuildInfo.resolveCommit(environment: nil, embedded: "0123456789ab-dirty") == "0123456789ab-dirty")
        #expect(AxonBuildInfo.resolveCommit(environment: "", embedded: "0123456789ab") == "0123456789ab")
        // An unusable override (spaces, quotes, too long) falls back rather than reaching a label.
        #expect(AxonBuildInfo.resolveCommit(environment: "a b", embedded: "0123456789ab") == "0123456789ab")
        #expect(AxonBuildInfo.resolveCommit(environment: String(repeating: "a", count: 65), embedded: "x\"y") == "unknown")
    }

    @Test func theEmbeddedCommitIsUsableOrUnknown() {
        let embedded = AxonBuildInfo.embeddedCommit
        #expect(AxonBuildInfo.resolveCommit(environment: nil, embedded: embedded) == embedded)
    }
}
