/// Added by Benchmarks/ingest/baseline.sh to a disposable copy of an older commit: its
/// whole-body JSON and CSV training parsers, public.
public enum BaselineProbe {
    public static func parseJSON(_ body: [UInt8]) throws -> Int {
        try TrainRequest.parse(json: body, limits: ServerLimits()).inputs.count
    }
    public static func parseCSV(_ body: [UInt8], target: String) throws -> Int {
        var request = TrainRequest()
        try request.read(csv: body, target: target, limits: ServerLimits())
        return request.inputs.count
    }
}
