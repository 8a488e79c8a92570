import AxonHTTP
/// Routes for benchmarks and tests only, enabled by `axond serve --enable-debug-routes`.
public enum DebugRoutes {
    private static let okBody = Array(#"{"status":"ok"}"#.utf8)

    /// Longest sleep `/debug/sleep/{ms}` accepts.
    public static let maximumSleepMilliseconds = 10_000

    /// `GET /debug/async` answers from a Task (the asynchronous path without any work);
    /// `GET /debug/sleep/{ms}` answers from a Task after `ms` milliseconds (requests that are
    /// in flight for a while, for drain tests); `POST /debug/echo` echoes the body from a Task.
    public static func register(on router: inout Router) {
        router.get("/debug/async", async: { _ in Response.json(bytes: okBody) })
        router.get("/debug/sleep/{ms}", async: { request in
            let text = try request.parameters.require("ms")
            guard let ms = Int(text), (0...maximumSleepMilliseconds).contains(ms) else {
                throw APIError.badRequest("ms must be an integer in 0...\(maximumSleepMilliseconds), got \(text)")
            }
            try await Task.sleep(for: .milliseconds(ms))
            return Response.json(bytes: okBody)
        })
        router.post("/debug/echo", async: { request in
            Response(
                status: .ok,
                headers: ["Content-Type": request.headers["Content-Type"] ?? "application/octet-stream"],
                body: request.body)
        })
    }
}
