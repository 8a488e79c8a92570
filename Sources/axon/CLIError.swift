import AxonAPI

/// Everything that stops a command, each with the exit status it ends the process with
/// (docs/cli.md, "Exit status").
enum CLIError: Error, Equatable {
    /// Arguments or input text that make no sense (64, as ArgumentParser's own usage errors).
    case usage(String)
    /// A local file that cannot be read (66).
    case unreadable(String)
    /// The server cannot be reached, or the connection broke (3).
    case unreachable(String)
    /// The server answered with an error envelope (401/403: 4, 404: 5, otherwise 2).
    case server(status: Int, code: String, message: String)
    /// The server answered something that is not the API (2).
    case badResponse(String)
    /// The job failed or was cancelled (1); the message says why.
    case jobFailed(String)

    /// The process's exit status for this error.
    var exitCode: Int32 {
        switch self {
        case .jobFailed: 1
        case .server(let status, _, _):
            switch status {
            case 401, 403: 4
            case 404: 5
            default: 2
            }
        case .badResponse: 2
        case .unreachable: 3
        case .usage: 64
        case .unreadable: 66
        }
    }

    /// What `axon` prints on stderr after `axon: error: `.
    var message: String {
        switch self {
        case .usage(let text), .unreadable(let text), .unreachable(let text), .badResponse(let text), .jobFailed(let text):
            return text
        case .server(let status, let code, let message):
            return "\(message) (HTTP \(status) \(code))" + (Self.hint(status: status, code: code).map { "\n  \($0)" } ?? "")
        }
    }

    /// What to do about the errors a person can fix on their side.
    private static func hint(status: Int, code: String) -> String? {
        switch status {
        case 401: "set AXON_TOKEN (or --token) to a token axond accepts: auth.admin_token, or auth.read_token for reads"
        case 403: "this token may only read; training, rollback and cancelling need auth.admin_token"
        default: nil
        }
    }
}

extension CLIError {
    /// The error a non-2xx `response` stands for: its envelope's code and message, or the
    /// status and the start of the body when it carries no envelope (a proxy's page).
    static func from(_ response: HTTPResponse) -> CLIError {
        if let envelope = try? APIJSON.decode(ErrorEnvelope.self, from: response.body) {
            return .server(status: response.status, code: envelope.error.code, message: envelope.error.message)
        }
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        return .server(status: response.status, code: "http_\(response.status)", message: text.isEmpty ? "no error body" : text)
    }
}
