import AxonServer
import Foundation
import Testing
import TestKit

/// The README's quick start (`<!-- seed -->` ... `<!-- /seed -->`): its curl commands, taken
/// from README.md as they are written, run with curl against a live daemon. The model they
/// train with nothing but `model`, `inputs` and `targets` must fit y = x²: every x in 0...9
/// within ±3 and x = 10 within 85...115. If the README drifts, this test runs the new text.
@Suite("README quick start")
struct QuickStartTests {
    /// The README's curl commands between the seed markers, continuation lines joined.
    static func commands() throws -> [String] {
        let readme = String(decoding: try repositoryFile("README.md"), as: UTF8.self)
        let start = try #require(readme.range(of: "<!-- seed -->"), "README.md has no <!-- seed --> marker")
        let end = try #require(readme.range(of: "<!-- /seed -->"), "README.md has no <!-- /seed --> marker")
        var commands: [String] = []
        var current: String?
        for line in readme[start.upperBound ..< end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if current == nil, line.hasPrefix("    "), text.hasPrefix("curl ") {
                current = text
            } else if let partial = current, line.hasPrefix("    "), !text.isEmpty {
                current = partial + " " + text
            }
            if let complete = current, !complete.hasSuffix("\\") {
                commands.append(complete)
                current = nil
            } else if let partial = current {
                current = String(partial.dropLast())
            }
        }
        return commands
    }

    @Test func readmeCommandsFitTheSquare() async throws {
        let commands = try Self.commands()
        #expect(commands.count >= 3, "\(commands)")
        // The first trains with only model, inputs and targets.
        let first = try #require(commands.first)
        for setting in ["layers", "epochs", "learning_rate", "optimizer", "batch_size"] {
            #expect(!first.contains("\"\(setting)\""), "the quick start's first command sets \(setting): \(first)")
        }
        try await withFreshDaemon { port in
            var outputs: [String] = []
            for command in commands {
                let local = command.replacingOccurrences(of: "localhost:8080", with: "127.0.0.1:\(port)")
                let (status, text) = try await onThread { try Subprocess.run("sh", ["-c", local]) }
                #expect(status == 0, "\(command): \(text)")
                outputs.append(text)
            }
            let trained = try JSONSerialization.jsonObject(with: Data(outputs[0].utf8)) as? [String: Any]
            #expect(trained?["status"] as? String == "succeeded", "\(outputs[0])")
            let model = try #require(first.firstMatch(of: /"model": *"([^"]+)"/)?.1).description
            let answer = try await call(
                port, "POST", "/predict", json: #"{"model":"\#(model)","inputs":[[0],[1],[2],[3],[4],[5],[6],[7],[8],[9],[10]]}"#)
            let predicted = try #require((answer.object["outputs"] as? [[Double]])?.map { $0[0] }, "\(answer.text)")
            for x in 0 ... 9 {
                #expect(abs(predicted[x] - Double(x * x)) <= 3, "x = \(x): \(predicted[x]) (all: \(predicted))")
            }
            #expect((85 ... 115).contains(predicted[10]), "x = 10: \(predicted[10]) (all: \(predicted))")
            let settings = try #require(trained?["settings"] as? [String: Any])
            #expect(settings["task"] as? String == "regression")
            #expect(settings["normalize_targets"] as? Bool == true)
        }
    }

    /// A model trained on standardized targets answers in the targets' units on every
    /// protocol, and evaluation reports those units too.
    @Test func everyProtocolMapsTheOutputsBack() async throws {
        try await withFreshDaemon { port in
            let rows = (0 ..< 10).map { "[\($0)]" }.joined(separator: ",")
            let targets = (0 ..< 10).map { String($0 * $0) }.joined(separator: ",")
            let trained = try await call(port, "POST", "/train?wait=true", json: #"{"model":"sq","inputs":[\#(rows)],"targets":[\#(targets)]}"#)
            #expect(trained.status == 200, "\(trained.text)")
            let own = try await call(port, "POST", "/predict", json: #"{"model":"sq","inputs":[[7]]}"#)
            let value = try #require((own.object["outputs"] as? [[Double]])?.first?.first, "\(own.text)")
            #expect(abs(value - 49) <= 3, "\(own.text)")
            let tf = try await call(port, "POST", "/v1/models/sq:predict", json: #"{"instances":[[7]]}"#)
            #expect((tf.object["predictions"] as? [[Double]])?.first?.first == value, "\(tf.text)")
            let v2 = try await call(
                port, "POST", "/v2/models/sq/infer", json: #"{"inputs":[{"name":"input","shape":[1,1],"datatype":"FP32","data":[7]}]}"#)
            let v2Outputs = (v2.object["outputs"] as? [[String: Any]])?.first?["data"] as? [Double]
            #expect(v2Outputs == [value], "\(v2.text)")
            let evaluated = try await call(
                port, "POST", "/models/sq/evaluate", json: #"{"inputs":[[2],[5],[8]],"targets":[4,25,64]}"#)
            let metrics = try #require(evaluated.object["metrics"] as? [String: Any], "\(evaluated.text)")
            #expect((metrics["r2"] as? Double ?? 0) > 0.99 && (metrics["mse"] as? Double ?? 100) < 9, "\(metrics)")
            let detail = try await call(port, "GET", "/models/sq")
            let settings = try #require(detail.object["settings"] as? [String: Any], "\(detail.text)")
            #expect(settings["normalize_targets"] as? Bool == true)
            #expect((settings["why"] as? [String: String])?["task"]?.hasPrefix("regression") == true, "\(settings)")
        }
    }
}
