import CBLAS

/// Process-wide controls of the OpenBLAS library that performs ModelKit's matrix products.
public enum BLAS {
    /// Sets how many threads OpenBLAS may use for one matrix product (process-wide).
    ///
    /// ModelKit's products are small (tens to hundreds of rows), where OpenBLAS's thread
    /// hand-off costs more than it saves; one thread is usually fastest, and leaves the other
    /// cores to concurrent requests.
    public static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// OpenBLAS's build description and the CPU kernel it selected (for benchmark reports).
    public static var description: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return "\(config) core=\(core)"
    }
}
