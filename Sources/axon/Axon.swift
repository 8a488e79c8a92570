import ArgumentParser
import AxonAPI
import Glibc

/// `axon`: a command-line client of axond's HTTP API.
@main
struct Axon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "axon",
        abstract: "Train models on axond, watch them train, and predict with them.",
        discussion: """
            axon talks to axond over its HTTP API: AXON_URL (default \(ServerURL.defaultURL)) says where, \
            and AXON_TOKEN the bearer token when axond has auth.admin_token or auth.read_token set.

            Exit status: 0 done; 1 the job failed or was cancelled; 2 the server refused the request; \
            3 the server cannot be reached; 4 missing or refused token (401, 403); 5 not found (404); \
            64 bad arguments; 66 an input file cannot be read. See docs/cli.md.
            """,
        version: AxonVersion.current,
        subcommands: [Train.self, Watch.self, Predict.self, Models.self, Jobs.self, Rollback.self]
    )
}

/// Where the server is and how to talk to it; every command takes these.
struct ClientOptions: ParsableArguments {
    @Option(help: ArgumentHelp("axond's address.", discussion: "Default: AXON_URL, else \(ServerURL.defaultURL).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp(
        "Bearer token.",
        discussion: "Default: AXON_TOKEN (or axond's own AXON_ADMIN_TOKEN, AXON_READ_TOKEN). The environment keeps it out of ps.",
        valueName: "token"))
    var token: String?

    @Flag(help: "Print the API's JSON instead of text, for scripts.")
    var json = false

    /// The environment variables a token is read from, first set wins: axon's own, then the
    /// ones axond reads its tokens from (for a shell that starts both).
    static let tokenVariables = ["AXON_TOKEN", "AXON_AUTH_ADMIN_TOKEN", "AXON_ADMIN_TOKEN", "AXON_AUTH_READ_TOKEN", "AXON_READ_TOKEN"]

    /// The client these options describe.
    func client() throws(CLIError) -> APIClient {
        let address = try ServerURL(url ?? Self.environment("AXON_URL") ?? ServerURL.defaultURL)
        let token = self.token ?? Self.tokenVariables.lazy.compactMap(Self.environment).first
        if let token, token.isEmpty || token.utf8.contains(where: { $0 < 0x21 || $0 == 0x7F }) {
            throw .usage("the token must be printable text without spaces (check AXON_TOKEN or --token)")
        }
        return APIClient(http: HTTPClient(server: address, token: token))
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}

/// Runs a command's body: a `CLIError` is printed as `axon: error: ...` on stderr and becomes
/// the exit status it stands for.
func reportingErrors(_ body: () throws(CLIError) -> Void) throws {
    do {
        try body()
    } catch {
        Terminal.error("axon: error: \(error.message)")
        throw ExitCode(error.exitCode)
    }
}
