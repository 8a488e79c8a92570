import AxonAPI

/// The routes `axon` calls, each answering the decoded value and the body as sent (what
/// `--json` prints).
struct APIClient {
    let http: HTTPClient

    /// `GET /models`.
    func models() throws(CLIError) -> (ModelList, [UInt8]) {
        try call("GET", "/models", as: ModelList.self, what: "model list")
    }

    /// `GET /models/{name}`.
    func model(_ name: String) throws(CLIError) -> ModelDetail {
        try call("GET", "/models/\(URLText.encode(name))", as: ModelDetail.self, what: "model").0
    }

    /// `GET /jobs?limit=`.
    func jobs(limit: Int) throws(CLIError) -> (JobList, [UInt8]) {
        try call("GET", "/jobs", query: [("limit", String(limit))], as: JobList.self, what: "job list")
    }

    /// `GET /jobs/{id}`.
    func job(_ id: String) throws(CLIError) -> (JobSnapshot, [UInt8]) {
        try call("GET", "/jobs/\(URLText.encode(id))", as: JobSnapshot.self, what: "job")
    }

    /// `POST /train`, or `POST /models/{name}/train` when `continuing` names the model: a CSV
    /// with the settings in the query. Answers the queued job.
    func train(csv: RequestBody, query: [(String, String)], continuing: String?) throws(CLIError) -> (JobSnapshot, [UInt8]) {
        let path = continuing.map { "/models/\(URLText.encode($0))/train" } ?? "/train"
        return try call("POST", path, query: query, body: csv, as: JobSnapshot.self, what: "job")
    }

    /// `POST /predict`.
    func predict(_ request: PredictRequest) throws(CLIError) -> (PredictResponse, [UInt8]) {
        let body: [UInt8]
        do {
            body = try APIJSON.encode(request)
        } catch {
            throw .usage("the rows cannot be sent as JSON: \(error)")
        }
        return try call("POST", "/predict", body: .bytes(body, contentType: "application/json"), as: PredictResponse.self, what: "prediction")
    }

    /// `POST /models/{name}/rollback`.
    func rollback(_ name: String, to version: UInt64) throws(CLIError) -> (ModelSummary, [UInt8]) {
        let body = (try? APIJSON.encode(RollbackRequest(version: version))) ?? []
        return try call(
            "POST", "/models/\(URLText.encode(name))/rollback", body: .bytes(body, contentType: "application/json"),
            as: ModelSummary.self, what: "model")
    }

    /// `GET /jobs/{id}/events`, resuming after `lastEventID` when given.
    func events(of id: String, after lastEventID: String?) throws(CLIError) -> ResponseStream {
        try http.stream("/jobs/\(URLText.encode(id))/events", headers: lastEventID.map { [("Last-Event-ID", $0)] } ?? [])
    }

    private func call<T: Decodable>(
        _ method: String, _ path: String, query: [(String, String)] = [], body: RequestBody = .none, as type: T.Type, what: String
    ) throws(CLIError) -> (T, [UInt8]) {
        let response = try http.send(method, path, query: query, body: body)
        guard (200 ..< 300).contains(response.status) else { throw CLIError.from(response) }
        return (try response.decode(type, what: what), response.body)
    }
}
