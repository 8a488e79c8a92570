/// The files of the web console as served: each body with its media type and entity tag, and
/// the version that names the asset URLs (`/ui/assets/<version>/<file>`).
///
/// Built once from the bytes SwiftPM embeds at build time (`ConsoleFiles`): nothing is read from
/// disk at run time, so a request path can never name a file outside this table.
struct ConsoleAssets: Sendable {
    /// One servable file.
    struct Asset: Sendable {
        /// The bytes sent.
        let body: [UInt8]
        /// The `Content-Type`.
        let contentType: String
        /// A strong validator of `body` (quoted, as sent in `ETag`).
        let etag: String
    }

    /// A digest of every file: it changes whenever any asset does, so asset URLs carrying it
    /// can be cached for good.
    let version: String
    /// `index.html`, with `{{version}}` replaced by `version`.
    let page: Asset
    /// The other files by name.
    let files: [String: Asset]

    /// The page's placeholder for the version in its asset URLs.
    static let versionPlaceholder = "{{version}}"
    /// The file served at `/ui`.
    static let pageName = "index.html"

    /// Assets from raw files by name; `index.html` is the page and is never served under
    /// `/ui/assets/`. A missing page is a build mistake.
    init(files raw: [String: [UInt8]]) {
        var digest = FNV1a()
        for name in raw.keys.sorted() {
            digest.add(Array(name.utf8))
            digest.add([0])
            digest.add(raw[name] ?? [])
        }
        version = digest.hex.prefix(12).description
        guard let template = raw[Self.pageName] else { preconditionFailure("the console has no \(Self.pageName)") }
        let html = String(decoding: template, as: UTF8.self).replacingOccurrences(of: Self.versionPlaceholder, with: version)
        page = Self.asset(Array(html.utf8), name: Self.pageName)
        var files: [String: Asset] = [:]
        for (name, bytes) in raw where name != Self.pageName {
            files[name] = Self.asset(bytes, name: name)
        }
        self.files = files
    }

    /// The console as compiled into this binary.
    static let embedded = ConsoleAssets(files: ConsoleFiles.all)

    private static func asset(_ body: [UInt8], name: String) -> Asset {
        var digest = FNV1a()
        digest.add(body)
        return Asset(body: body, contentType: contentType(of: name), etag: "\"\(digest.hex)\"")
    }

    /// The media type by extension; text is always UTF-8.
    static func contentType(of name: String) -> String {
        let ext = name.split(separator: ".").last.map { String($0).lowercased() } ?? ""
        switch ext {
        case "html": return "text/html; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "svg": return "image/svg+xml"
        case "png": return "image/png"
        case "json": return "application/json"
        default: return "application/octet-stream"
        }
    }
}

/// 64-bit FNV-1a: a fast, dependency-free digest for cache validators (not for security: an
/// entity tag only has to change when the bytes do).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: [UInt8]) {
        for byte in bytes {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01b3
        }
    }

    /// Sixteen lower-case hex digits.
    var hex: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
