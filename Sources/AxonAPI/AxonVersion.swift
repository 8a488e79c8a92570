/// Axon's version, reported by `axond --version` and the server metadata.
public enum AxonVersion {
    /// The semantic version of this build.
    public static let current = "0.1.0"
}
