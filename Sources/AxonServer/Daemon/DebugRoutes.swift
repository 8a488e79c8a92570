/// Routes for benchmarks and tests only, enabled by `axond serve --enable-debug-routes`.
public enum DebugRoutes {
    private static let okBody = Array(#"{"status":"ok"}"#.utf8)

    /// `GET /debug/async` answers from a Task (the asynchronous path without any work);
    /// `POST /debug/echo` echoes the body from a Task.
    public static func register(on router: inout Router) {
        router.get("/debug/async", async: { _ in Response.json(bytes: okBody) })
        router.post("/debug/echo", async: { request in
            Response(status: .ok, headers: ["Content-Type": request.headers["Content-Type"] ?? "application/octet-stream"], body: request.body)
        })
    }
}
