import AxonHTTP
extension APIContext {
    /// 405 `read_only` when the store serves a read-only state directory (`read_only`). Every
    /// route that would write (train, continue, rollback, delete a model or a job) calls it
    /// first, before reading the body. 405 because the method is disabled by configuration;
    /// `Allow` lists what the path still serves. A path that serves nothing then gets no
    /// `Allow` rather than the empty one RFC 9110 (10.2.1) describes: libmicrohttpd refuses
    /// empty header values.
    func refuseIfReadOnly(_ request: Request, allowed: [HTTPMethod] = []) throws(APIError) {
        guard store.isReadOnly else { return }
        throw APIError(
            status: .methodNotAllowed, code: "read_only",
            message: "\(request.method) \(request.path) is refused: this server is read-only (read_only: true, or --read-only); it serves the models in its state directory and never writes there. Train on a writable axond, then publish its state directory",
            headers: allowed.isEmpty ? [:] : ["Allow": allowed.map(\.rawValue).joined(separator: ", ")])
    }
}
