/// HTTPS through libmicrohttpd (GnuTLS): PEM certificate chain and private key files, read once
/// at start-up (`tls.cert_file`, `tls.key_file`). Both or neither.
public struct TLSConfiguration: Sendable, Equatable {
    /// Path of the PEM certificate (chain); nil serves plain HTTP.
    public var certificateFile: String?
    /// Path of the PEM private key (unencrypted); nil serves plain HTTP.
    public var keyFile: String?

    /// Plain HTTP.
    public init() {}

    /// TLS with the given files.
    public init(certificateFile: String, keyFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// Whether HTTPS is configured (both files set).
    public var isEnabled: Bool { certificateFile != nil && keyFile != nil }
}
