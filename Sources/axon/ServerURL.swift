/// Where axond listens: `http://host[:port][/prefix]` (AXON_URL, `--url`). A prefix is kept for
/// a daemon published under a path by a proxy.
struct ServerURL: Sendable, Equatable, CustomStringConvertible {
    /// The host name or address (an IPv6 address without its brackets).
    var host: String
    var port: UInt16
    /// "" or a path starting with "/" and not ending with one.
    var basePath: String

    /// What AXON_URL defaults to: `axond serve`'s own default address.
    static let defaultURL = "http://127.0.0.1:8080"

    /// The `Host` header.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? name : "\(name):\(port)"
    }

    var description: String { "http://\(hostHeader)\(basePath)" }
}

extension ServerURL {
    /// Parses AXON_URL or `--url`.
    init(_ text: String) throws(CLIError) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("https://") {
            throw .usage(
                "\(text): axon speaks plain HTTP only; for an axond that serves HTTPS (tls.cert_file), "
                    + "reach it through a plain-HTTP listener on loopback or a proxy")
        }
        guard lowered.hasPrefix("http://") else {
            throw .usage("\(text) is not an http:// URL (set AXON_URL or --url, e.g. \(Self.defaultURL))")
        }
        let rest = text.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        guard !path.contains("?"), !path.contains("#") else { throw .usage("\(text): a server URL takes no query or fragment") }
        guard !authority.contains("@") else { throw .usage("\(text): put the token in AXON_TOKEN, not in the URL") }
        var hostPart = Substring(authority)
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .usage("\(text): unclosed [ in the host") }
            hostPart = authority[authority.index(after: authority.startIndex) ..< close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .usage("\(text): expected :port after ]") }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { throw .usage("\(text) names no host") }
        host = String(hostPart)
        if let portPart {
            guard let value = UInt16(portPart), value > 0 else { throw .usage("\(text): the port must be 1...65535, got \"\(portPart)\"") }
            port = value
        } else {
            port = 80
        }
        basePath = path
    }
}

/// Percent-encoding of path segments and query values (RFC 3986: only unreserved characters
/// stay as they are).
enum URLText {
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A") ... UInt8(ascii: "Z"), UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "0") ... UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// `?a=1&b=2`, or "" without items.
    static func query(_ items: [(String, String)]) -> String {
        items.isEmpty ? "" : "?" + items.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
