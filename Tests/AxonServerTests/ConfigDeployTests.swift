import Foundation
import Testing

@testable import AxonServer

/// A repository file as text (`repositoryRoot` is in APISupport.swift).
private func repositoryText(_ path: String) throws -> String {
    try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
}

/// The first integer after `prefix` on a line of `text` (e.g. "TimeoutStopSec=").
private func integer(after prefix: String, in text: String) -> Int? {
    for line in text.split(separator: "\n") {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix(prefix) else { continue }
        return Int(trimmed.dropFirst(prefix.count).prefix { $0.isNumber })
    }
    return nil
}

@Suite("deploy files agree with the configuration")
struct ConfigDeployTests {
    @Test("the unit's TimeoutStopSec leaves room for the default drain; WatchdogSec is set")
    func systemdTimeouts() throws {
        let unit = try repositoryText("deploy/axond.service")
        let stop = try #require(integer(after: "TimeoutStopSec=", in: unit))
        let drain = ConfigurationKey.seconds(DaemonConfiguration().drainTimeout)
        #expect(Double(stop) > drain + 5, "TimeoutStopSec \(stop) must exceed drain \(drain) s plus the 5 s cancellation grace")
        #expect(unit.contains("Type=notify") && unit.contains("DynamicUser=yes") && unit.contains("StateDirectory=axon"))
        #expect(integer(after: "WatchdogSec=", in: unit) != nil)
    }

    @Test("the Kubernetes ConfigMap's axond.json is a valid configuration, and the grace period covers preStop + drain")
    func kubernetes() throws {
        let configMap = try repositoryText("deploy/kubernetes/configmap.yaml")
        // The block scalar under `axond.json: |`, indented four spaces.
        let lines = configMap.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.contains("axond.json: |") })
        let json = lines[(start + 1)...].prefix { $0.hasPrefix("    ") || $0.isEmpty }.map { $0.dropFirst(4) }.joined(separator: "\n")
        let configuration = try ConfigurationLoader.load(contents: Data(json.utf8), path: "configmap.yaml", environment: [:])
        #expect(configuration.http.host == "0.0.0.0")
        #expect(configuration.watchInterval != nil)

        let deployment = try repositoryText("deploy/kubernetes/deployment.yaml")
        let grace = try #require(integer(after: "terminationGracePeriodSeconds: ", in: deployment))
        let preStop = try #require(integer(after: "sleep: {seconds: ", in: deployment))
        #expect(Double(grace) > Double(preStop) + ConfigurationKey.seconds(configuration.drainTimeout))
        #expect(deployment.contains("path: /readyz") && deployment.contains("path: /healthz"))
    }

    @Test("nginx forwards bodies up to limits.max_body_bytes, so axond's 413 names the key")
    func nginxBodyLimit() throws {
        let conf = try repositoryText("deploy/nginx/axon.conf")
        let megabytes = try #require(integer(after: "client_max_body_size ", in: conf))
        #expect(UInt64(megabytes) << 20 == DaemonConfiguration().http.maxBodyBytes)
    }
}
