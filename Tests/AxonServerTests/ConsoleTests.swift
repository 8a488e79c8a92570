import AxonHTTP
import Foundation
import Testing
import TestKit

@testable import AxonServer

/// Runs `body` against the daemon's real router on 127.0.0.1:0 (temporary state directory),
/// its HTTP access settings applied as `Daemon.run` applies them.
private func withDaemon(_ configure: (inout DaemonConfiguration) -> Void = { _ in }, _ body: (Int) async throws -> Void) async throws {
    let state = try TemporaryDirectory()
    defer { state.remove() }
    let daemon = await loadedDaemon(stateDirectory: state.path, configure: configure)
    defer { daemon.jobs.close() }
    var http = testConfiguration(maxBodyBytes: 1 << 20)
    http.access = daemon.configuration.http.access
    http.cors = daemon.configuration.http.cors
    try await withServer(router: daemon.makeRouter(), configuration: http) { _, port in try await body(port) }
}

private func get(_ port: Int, _ path: String, headers: [(String, String)] = []) async throws -> TestResponse {
    try await onThread { try TestConnection(port: port).request("GET", path, headers: headers) }
}

/// Every `/ui/assets/...` URL the page names.
private func assetPaths(in page: String) -> [String] {
    page.matches(of: /\/ui\/assets\/[0-9a-f]+\/[A-Za-z0-9._-]+/).map { String($0.output) }
}

private let assetsDirectory = repositoryRoot.appendingPathComponent("Sources/AxonServer/Console/Assets")

@Suite("web console at /ui")
struct ConsoleTests {
    @Test("GET /ui is the page: HTML with the CSP and safe headers, revalidated, naming its assets by version")
    func page() async throws {
        try await withDaemon { port in
            let page = try await get(port, "/ui")
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            let csp = try #require(page.header("Content-Security-Policy"))
            #expect(csp == ConsoleRoutes.contentSecurityPolicy)
            for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
                #expect(csp.contains(directive), "\(csp) lacks \(directive)")
            }
            #expect(!csp.contains("unsafe"))
            #expect(page.header("X-Content-Type-Options") == "nosniff")
            #expect(page.header("Referrer-Policy") == "no-referrer")
            #expect(page.header("X-Frame-Options") == "DENY")
            #expect(page.header("Cache-Control") == "no-cache")
            #expect(page.header("ETag")?.hasPrefix("\"") == true)
            let html = page.text
            #expect(!html.contains(ConsoleAssets.versionPlaceholder))
            let version = ConsoleAssets.embedded.version
            #expect(html.contains("/ui/assets/\(version)/app.js"))
            // What the CSP would block anyway must not be there: inline script, handlers, styles.
            #expect(html.matches(of: /<script(?![^>]*\bsrc=)/).isEmpty, "inline <script> in the page")
            #expect(html.matches(of: /\son[a-z]+=/).isEmpty, "inline event handler in the page")
            #expect(html.matches(of: /\sstyle=|<style/).isEmpty, "inline style in the page")
        }
    }

    @Test("every asset the page names, and every module a script imports, is served with its type and cached for good")
    func assets() async throws {
        try await withDaemon { port in
            let page = try await get(port, "/ui").text
            var paths = assetPaths(in: page)
            #expect(paths.count >= 3, "\(paths)")
            var seen = Set<String>()
            while let path = paths.popLast() {
                guard seen.insert(path).inserted else { continue }
                let asset = try await get(port, path)
                #expect(asset.status == 200, "\(path): \(asset.text)")
                let name = String(path.split(separator: "/").last ?? "")
                #expect(asset.header("Content-Type") == ConsoleAssets.contentType(of: name), "\(path)")
                #expect(asset.header("Cache-Control") == ConsoleRoutes.immutable, "\(path)")
                #expect(asset.header("Content-Security-Policy") == ConsoleRoutes.contentSecurityPolicy, "\(path)")
                #expect(asset.header("X-Content-Type-Options") == "nosniff")
                #expect(!asset.body.isEmpty)
                guard name.hasSuffix(".js") else { continue }
                // Relative imports resolve next to the importing module, under the same version.
                let base = path.dropLast(name.count)
                for module in asset.text.matches(of: /from '\.\/([A-Za-z0-9._-]+\.js)'/) {
                    paths.append(String(base) + String(module.output.1))
                }
            }
            let served = Set(seen.map { String($0.split(separator: "/").last ?? "") })
            #expect(served.isSuperset(of: ["app.js", "api.js", "chart.js", "console.css", "icon.svg"]), "\(served.sorted())")
        }
    }

    @Test("If-None-Match with the ETag is a 304 without a body; another tag gets the file")
    func revalidation() async throws {
        try await withDaemon { port in
            let page = try await get(port, "/ui")
            let etag = try #require(page.header("ETag"))
            let same = try await get(port, "/ui", headers: [("If-None-Match", etag)])
            #expect(same.status == 304 && same.body.isEmpty)
            #expect(same.header("ETag") == etag && same.header("Content-Security-Policy") != nil)
            let listed = try await get(port, "/ui", headers: [("If-None-Match", "\"0000000000000000\", W/\(etag)")])
            #expect(listed.status == 304)
            let other = try await get(port, "/ui", headers: [("If-None-Match", "\"0000000000000000\"")])
            #expect(other.status == 200 && other.body == page.body)
            let css = "/ui/assets/\(ConsoleAssets.embedded.version)/console.css"
            let asset = try await get(port, css)
            let again = try await get(port, css, headers: [("If-None-Match", try #require(asset.header("ETag")))])
            #expect(again.status == 304 && again.body.isEmpty)
            #expect(asset.header("ETag") != etag)
        }
    }

    @Test("an asset under another version is served but revalidated, never cached for good")
    func otherVersion() async throws {
        try await withDaemon { port in
            let asset = try await get(port, "/ui/assets/0123456789ab/console.css")
            #expect(asset.status == 200 && asset.header("Cache-Control") == "no-cache")
        }
    }

    @Test("unknown files, traversal, the page under /assets and other methods are refused; nothing is read from disk")
    func refusals() async throws {
        try await withDaemon { port in
            let version = ConsoleAssets.embedded.version
            let missing = [
                "/ui/assets/\(version)/nope.js", "/ui/assets/\(version)/index.html",
                "/ui/assets/\(version)/..%2F..%2F..%2FPackage.swift", "/ui/assets/\(version)/%2e%2e%2fconsole.css",
                "/ui/assets/\(version)/ConsoleRoutes.swift", "/ui/assets/\(version)/console.css%00.js",
                "/ui/assets/\(version)/" + String(repeating: "a", count: 4000) + ".js",
            ]
            for path in missing {
                let response = try await get(port, path)
                expectError(response, 404, "not_found")
                #expect(response.text.count < 1000, "the answer echoes the whole name: \(response.text.count) bytes")
                #expect(response.header("Content-Type") == "application/json")
            }
            for path in ["/ui/../healthz", "/ui/assets/\(version)/a/b.js", "/ui/assets/console.css", "/ui/index.html"] {
                #expect(try await get(port, path).status == 404, "\(path)")
            }
            let post = try await onThread { try TestConnection(port: port).request("POST", "/ui", body: Array("x".utf8)) }
            expectError(post, 405, "method_not_allowed")
            #expect(post.header("Allow") == "GET, HEAD")
        }
    }

    @Test("ui.enabled = false: /ui and its assets are 404, the API still serves")
    func disabled() async throws {
        try await withDaemon({ $0.enableConsole = false }) { port in
            expectError(try await get(port, "/ui"), 404, "not_found")
            expectError(try await get(port, "/ui/assets/\(ConsoleAssets.embedded.version)/app.js"), 404, "not_found")
            #expect(try await get(port, "/models").status == 200)
        }
    }

    @Test("with tokens the console's files need none, while the API it calls still does; CORS applies as on every route")
    func openFilesClosedAPI() async throws {
        try await withDaemon({
            $0.http.access.readToken = "console-read-0123456789"
            $0.http.access.adminToken = "console-admin-0123456789"
            $0.http.cors.enabled = true
            $0.http.cors.allowedOrigins = ["https://ops.example"]
        }) { port in
            let page = try await get(port, "/ui", headers: [("Origin", "https://ops.example")])
            #expect(page.status == 200)
            #expect(page.header("Access-Control-Allow-Origin") == "https://ops.example")
            #expect(try await get(port, "/ui", headers: [("Origin", "https://evil.example")]).header("Access-Control-Allow-Origin") == nil)
            #expect(try await get(port, "/ui/assets/\(ConsoleAssets.embedded.version)/api.js").status == 200)
            expectError(try await get(port, "/models"), 401, "missing_token")
            // An unknown console path is no route: it asks for a token like any other.
            #expect(try await get(port, "/ui/other").status == 401)
            let read = try await get(port, "/models", headers: [("Authorization", "Bearer console-read-0123456789")])
            #expect(read.status == 200)
        }
    }

    @Test("the files served are exactly those in Console/Assets, byte for byte")
    func embeddedMatchesDirectory() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: assetsDirectory.path).filter { !$0.hasPrefix(".") }
        #expect(Set(names) == Set(ConsoleFiles.all.keys), "add new files to ConsoleFiles.all")
        for name in names {
            let bytes = Array(try Data(contentsOf: assetsDirectory.appendingPathComponent(name)))
            #expect(ConsoleFiles.all[name] == bytes, "\(name) differs from the embedded copy")
        }
        // The version follows the contents: one byte more in any file changes it.
        var changed = ConsoleFiles.all
        changed["console.css"]?.append(0x20)
        #expect(ConsoleAssets(files: changed).version != ConsoleAssets.embedded.version)
        #expect(ConsoleAssets(files: changed).files["console.css"]?.etag != ConsoleAssets.embedded.files["console.css"]?.etag)
        #expect(ConsoleAssets(files: ConsoleFiles.all).version == ConsoleAssets.embedded.version)
    }

    @Test("If-None-Match lists: exact tags, weak tags and * match; others do not")
    func tagMatching() {
        #expect(ConsoleRoutes.matches("\"abc\"", "\"abc\""))
        #expect(ConsoleRoutes.matches("W/\"abc\"", "\"abc\""))
        #expect(ConsoleRoutes.matches("\"x\", \"abc\"", "\"abc\""))
        #expect(ConsoleRoutes.matches("*", "\"abc\""))
        #expect(!ConsoleRoutes.matches("\"abcd\"", "\"abc\""))
        #expect(!ConsoleRoutes.matches("abc", "\"abc\""))
        #expect(!ConsoleRoutes.matches("", "\"abc\""))
    }

    @Test("ui.enabled reads from the file, the environment and --no-ui; on by default")
    func configurationKey() throws {
        #expect(DaemonConfiguration().enableConsole)
        let file = try ConfigurationLoader.load(contents: Data(#"{"ui": {"enabled": false}}"#.utf8), path: "t.json", environment: [:])
        #expect(!file.enableConsole)
        let environment = try ConfigurationLoader.load(contents: nil, path: "t.json", environment: ["AXON_UI_ENABLED": "off"])
        #expect(!environment.enableConsole)
        let flag = try ConfigurationLoader.load(
            contents: Data(#"{"ui": {"enabled": false}}"#.utf8), path: "t.json", environment: [:],
            overrides: [ConfigurationOverride(key: "ui.enabled", value: "true", source: "flag --ui")])
        #expect(flag.enableConsole)
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(contents: Data(#"{"ui": {"enabled": "yes"}}"#.utf8), path: "t.json", environment: [:])
        }
    }
}
