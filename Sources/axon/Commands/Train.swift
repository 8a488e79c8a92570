import ArgumentParser
import AxonAPI
import Glibc

/// `axon train data.csv --model NAME`: uploads a CSV, then follows the job to its end.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model from a CSV file and show its progress.",
        discussion: """
            The CSV needs a header row; the target is the column --target names (the last one by default). \
            Settings left out are chosen by axond from the data (docs/training-defaults.md). \
            The job's events show as a progress bar on a terminal and as plain lines otherwise; \
            the metrics follow when it succeeds. axon exits 1 when the job fails.
            """)

    @Argument(help: "The CSV file (- for standard input).")
    var file: String

    @Option(help: "The model's name.")
    var model: String

    @Option(help: "The target column (default: the last).")
    var target: String?

    @Flag(name: .customLong("continue"), help: "Train a new version from the model's current weights instead of from scratch.")
    var continuing = false

    @Option(help: "classification or regression (default: from the target's values).")
    var task: String?

    @Option(help: "Hidden layer sizes, comma-separated (e.g. 16,8).")
    var layers: String?

    @Option(help: "relu, leaky_relu, sigmoid or tanh.")
    var activation: String?

    @Option(help: "The loss (e.g. cross_entropy, mse, huber).")
    var loss: String?

    @Option(help: "sgd, adam or adamw.")
    var optimizer: String?

    @Option(help: "The learning rate.")
    var learningRate: Double?

    @Option(help: "Passes over the training rows.")
    var epochs: Int?

    @Option(help: "Rows per optimizer step.")
    var batchSize: Int?

    @Option(help: "Seed of the initial weights and the shuffles.")
    var seed: UInt64?

    @Option(help: "L1 penalty.")
    var l1: Double?

    @Option(help: "L2 penalty.")
    var l2: Double?

    @Option(help: "Dropout rate of the hidden layers.")
    var dropout: Double?

    @Option(help: "Fraction of the rows held out for validation.")
    var validationSplit: Double?

    @Option(help: "Early stopping after this many epochs without improvement (0 turns it off).")
    var patience: Int?

    @Option(help: "standard, min_max or none.")
    var normalize: String?

    @Option(help: "Standardize regression targets (true or false).")
    var normalizeTargets: Bool?

    @Option(help: "impute or refuse.")
    var missingValues: String?

    @Flag(help: "Print the job id and return at once instead of following the job.")
    var detach = false

    @OptionGroup var client: ClientOptions

    /// The settings as `POST /train` takes them with a CSV body: query parameters.
    var query: [(String, String)] {
        var items: [(String, String)] = continuing ? [] : [("model", model)]
        func add(_ name: String, _ value: (some CustomStringConvertible)?) {
            if let value { items.append((name, value.description)) }
        }
        add("target", target)
        add("task", task)
        add("layers", layers)
        add("activation", activation)
        add("loss", loss)
        add("optimizer", optimizer)
        add("learning_rate", learningRate)
        add("epochs", epochs)
        add("batch_size", batchSize)
        add("seed", seed)
        add("l1", l1)
        add("l2", l2)
        add("dropout", dropout)
        add("validation_split", validationSplit)
        add("patience", patience)
        add("normalize", normalize)
        add("normalize_targets", normalizeTargets)
        add("missing_values", missingValues)
        return items
    }

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            let api = try client.client()
            let body: RequestBody = file == "-" ? .bytes(try StandardInput.readAll(), contentType: "text/csv") : .file(path: file, contentType: "text/csv")
            let (job, raw) = try api.train(csv: body, query: query, continuing: continuing ? model : nil)
            if detach {
                if client.json { Terminal.json(raw) } else { Terminal.line(job.id) }
                return
            }
            try follow(job, api: api, json: client.json)
        }
    }
}

/// Follows `job` to its end with the display that suits stdout, then reports it.
func follow(_ job: JobSnapshot, api: APIClient, json: Bool) throws(CLIError) {
    let display: JobDisplay
    if json {
        display = QuietDisplay()
    } else if Terminal.isInteractive {
        display = TerminalDisplay()
    } else {
        display = LineDisplay()
    }
    Interrupt.onInterrupt(print: "\naxon: stopped following job \(job.id); it keeps running (axon watch \(job.id))\n")
    let (finished, raw) = try JobFollower(api: api).follow(job, display: display)
    try JobReport.finish(finished, raw: raw, json: json)
}

/// Standard input read to its end (`-` as a file name).
enum StandardInput {
    /// At most this much is read from standard input (a file is streamed instead).
    static let maxBytes = 1 << 30

    static func readAll() throws(CLIError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .unreadable("cannot read standard input: \(String(cString: strerror(errno)))") }
            guard count > 0 else { return bytes }
            bytes += chunk[..<count]
            guard bytes.count <= maxBytes else { throw .unreadable("standard input holds more than \(maxBytes) bytes; pass the file's name instead") }
        }
    }
}
