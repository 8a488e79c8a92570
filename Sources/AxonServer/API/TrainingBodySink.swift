import AxonJobs
import AxonStore
import AxonHTTP
/// Reads a training body, CSV or JSON by its Content-Type, chunk by chunk as it arrives
/// (`CSVTrainingReader`, `JSONTrainingReader`), into a `TrainRequest`.
///
/// The query (CSV settings, `wait`) and the Content-Type are checked when the reader is made,
/// from the request's head: a bad one is answered before the body is read.
struct TrainingBodyReader {
    private var train = TrainRequest()
    private var csv: CSVTrainingReader?
    private var json: JSONTrainingReader?

    init(_ request: Request, limits: ServerLimits) throws(APIError) {
        let declared = request.headers["Content-Length"].flatMap { Int($0) }
        if request.isCSV {
            let target = try train.apply(query: request.queryItems, csv: true, limits: limits)
            csv = CSVTrainingReader(target: target, limits: limits, expectedBytes: declared)
        } else {
            try request.requireJSON()
            _ = try train.apply(query: request.queryItems, csv: false, limits: limits)
            json = JSONTrainingReader(limits: limits, expectedBytes: declared)
        }
    }

    /// A reader without a request (`TrainingBodyProbe`): CSV with `target`, or JSON.
    init(csv: Bool, target: String?, limits: ServerLimits, expectedBytes: Int?) {
        if csv {
            self.csv = CSVTrainingReader(target: target, limits: limits, expectedBytes: expectedBytes)
        } else {
            json = JSONTrainingReader(limits: limits, expectedBytes: expectedBytes)
        }
    }

    mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>) throws(APIError) {
        if csv != nil {
            try csv!.consume(chunk)
        } else {
            try json!.consume(chunk)
        }
    }

    /// The request, once the whole body went through `consume`.
    mutating func finish() throws(APIError) -> TrainRequest {
        if csv != nil {
            try csv!.finish(into: &train)
            csv = nil
            return train
        }
        var parsed = try json!.finish()
        json = nil
        parsed.wait = train.wait
        return parsed
    }
}

/// The body of `POST /train` or `POST /models/{name}/train`, read as it arrives by a
/// `TrainingBodyReader`, so neither the body nor a copy of it is ever held whole; then the plan
/// is made and the job submitted as for any training request.
///
/// `@unchecked Sendable`: the shim calls `receive` on one polling thread, never two at once,
/// and `finish` only after the last call returned (`BodySink`).
final class TrainingBodySink: BodySink, @unchecked Sendable {
    private let context: APIContext
    /// The model to continue (`POST /models/{name}/train`), or nil for `POST /train`.
    private let continuing: String?
    private var reader: TrainingBodyReader

    init(_ request: Request, context: APIContext, continuing name: String?) throws(APIError) {
        self.context = context
        continuing = name
        reader = try TrainingBodyReader(request, limits: context.limits)
    }

    func receive(_ chunk: UnsafeBufferPointer<UInt8>) throws {
        try reader.consume(chunk)
    }

    func finish() async throws -> Response {
        let train = try reader.finish()
        let context = context
        let plan: TrainingPlan
        if let name = continuing {
            guard let current = context.store.current(name) else { throw StoreError.modelNotFound(name: name) }
            plan = try TrainingPlan.continuing(train, current: current, limits: context.limits)
        } else {
            plan = try TrainingPlan.fresh(train, limits: context.limits)
            // A model the store would refuse (limits.max_models) is refused before training.
            try context.store.checkInstallable(name: plan.name)
        }
        return try await TrainingRoutes.answer(context.jobs.submit(plan), wait: train.wait, context: context)
    }
}
