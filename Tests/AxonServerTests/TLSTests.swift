@testable import AxonHTTP
import Foundation
import Testing

@testable import AxonServer
import TestKit

@Suite("HTTPS through libmicrohttpd")
struct TLSTests {
    @Test(
        "a self-signed certificate serves HTTPS that curl verifies",
        .enabled(if: HTTPServer.isTLSSupported, "skipped: this libmicrohttpd was built without TLS"))
    func https() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let certificate = "\(directory.path)/cert.pem", key = "\(directory.path)/key.pem"
        let (generated, log) = try await onThread {
            try Subprocess.run(
                "openssl",
                [
                    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
                ])
        }
        try #require(generated == 0, "openssl failed: \(log)")

        var configuration = testConfiguration()
        configuration.tls = TLSConfiguration(certificateFile: certificate, keyFile: key)
        var router = Router()
        HealthRoutes.register(on: &router, readiness: Readiness(.ready))
        try await withServer(router: router, configuration: configuration) { _, port in
            let (status, body) = try await onThread {
                try Subprocess.run("curl", ["-sS", "--max-time", "10", "--cacert", certificate, "https://127.0.0.1:\(port)/readyz"])
            }
            #expect(status == 0, "curl: \(body)")
            #expect(body == #"{"status":"ready"}"#)
            // Plain HTTP on the TLS port is not answered as HTTP.
            let (plain, _) = try await onThread {
                try Subprocess.run("curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/readyz"])
            }
            #expect(plain != 0)
        }
    }

    @Test("a missing or non-PEM certificate is a configuration error naming the key")
    func badFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let junk = "\(directory.path)/junk.pem"
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: junk))
        for (certificate, key, name) in [("/nonexistent.pem", junk, "tls.cert_file"), (junk, junk, "tls.cert_file")] {
            var configuration = testConfiguration()
            configuration.tls = TLSConfiguration(certificateFile: certificate, keyFile: key)
            let server = HTTPServer(configuration: configuration, router: Router(), logger: quietLogger)
            #expect {
                try server.start()
            } throws: { error in
                guard case .invalidConfiguration(let text) = error as? HTTPServerError else { return false }
                return text.contains(name)
            }
        }
    }
}
