import AxonHTTP

extension Request {
    /// Whether the body is declared as CSV.
    var isCSV: Bool {
        headers["Content-Type"].map { $0.lowercased().hasPrefix("text/csv") } ?? false
    }

    /// 415 unless the body is declared as JSON (or not declared at all).
    func requireJSON() throws(APIError) {
        guard let type = headers["Content-Type"]?.lowercased(), !type.hasPrefix("application/json") else { return }
        // curl -d sends form encoding by default; JSON bodies sent that way are accepted too.
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError(
                status: .unsupportedMediaType, code: "unsupported_media_type",
                message: "Content-Type \(type) is not supported here; send application/json (or text/csv to /train)")
        }
    }
}
