import AxonHTTP
import Foundation

/// The web console: `GET /ui` is the page, `GET /ui/assets/{version}/{file}` its scripts,
/// stylesheet and icon, all compiled into the binary (`ConsoleAssets`). Off with `ui.enabled`.
///
/// The routes are open whatever `auth.*` says: the files hold no data, and a browser cannot
/// attach a bearer token to a page load. The console asks for the token and sends it with
/// every API call, so the API's scopes hold as for any other client.
///
/// Every answer forbids inline script, framing and other origins (`securityHeaders`). The page
/// is revalidated on each load (`no-cache` with an `ETag`); assets under the current version
/// never change, so browsers keep them for a year without asking again. An asset requested
/// under another version (a page from an older build, or another replica) is still served,
/// but revalidated, never cached for good.
enum ConsoleRoutes {
    /// The page's path.
    static let pagePath = "/ui"
    /// The template of every other file.
    static let assetTemplate = "/ui/assets/{version}/{file}"

    /// Content-Security-Policy of every console answer: scripts, styles, images and API calls
    /// from this origin only, no inline script or style, no plugins, never inside a frame.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    /// The headers every console answer carries, 304s included.
    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", contentSecurityPolicy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        // For browsers that predate frame-ancestors.
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Cross-Origin-Resource-Policy", "same-origin"),
    ]

    /// `Cache-Control` of the page and of assets requested under another version.
    static let revalidate = "no-cache"
    /// `Cache-Control` of assets under the current version.
    static let immutable = "public, max-age=31536000, immutable"

    /// Registers the console's routes on `router`, serving `assets`.
    static func register(on router: inout Router, assets: ConsoleAssets = .embedded) {
        router.get(pagePath, scope: .open) { request in
            answer(assets.page, cacheControl: revalidate, request: request)
        }
        router.get(assetTemplate, scope: .open) { request in
            let name = try request.parameters.require("file")
            guard let asset = assets.files[name] else {
                throw APIError(
                    status: .notFound, code: "not_found",
                    message: "the console has no file \"\(name.excerpt)\" (its files: \(assets.files.keys.sorted().joined(separator: ", ")))")
            }
            let current = try request.parameters.require("version") == assets.version
            return answer(asset, cacheControl: current ? immutable : revalidate, request: request)
        }
    }

    /// 200 with `asset`, or 304 without a body when the client's `If-None-Match` holds its tag.
    static func answer(_ asset: ConsoleAssets.Asset, cacheControl: String, request: Request) -> Response {
        var headers = HTTPHeaders(securityHeaders)
        headers["ETag"] = asset.etag
        headers["Cache-Control"] = cacheControl
        if let tags = request.headers["If-None-Match"], matches(tags, asset.etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers["Content-Type"] = asset.contentType
        return Response(status: .ok, headers: headers, body: asset.body)
    }

    /// Whether an `If-None-Match` list names `etag` (weak comparison, RFC 9110 13.1.2) or is `*`.
    static func matches(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { item in
            var tag = item.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == etag
        }
    }
}
