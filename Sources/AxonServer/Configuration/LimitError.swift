extension APIError {
    /// 413 or 422 for a request over one of the `limits.*` keys, naming the key so the operator
    /// knows what to raise: e.g. `limitExceeded(key: "limits.max_rows_per_request", limit: 1000, got: 5000,
    /// what: "rows")`. The store and API code call this when they check `DaemonConfiguration.limits`.
    public static func limitExceeded(key: String, limit: Int, got: Int, what: String) -> APIError {
        // Sizes of what a request asks for are 413; a full store or queue is 429 (try later,
        // once models are deleted or jobs finish).
        let status: HTTPStatus =
            switch key {
            case "limits.max_models", "limits.max_queued_jobs": HTTPStatus(429)
            default: .contentTooLarge
            }
        return APIError(
            status: status, code: "limit_exceeded",
            message: "\(got) \(what) exceeds \(key) = \(limit)")
    }
}
