// libFuzzer entry for the request decoders (AxonServer's `RequestDecoders`). One binary serves
// every decoder; AXON_FUZZ_BODY names which (`predict`, `tf-serving`, `v2-json`, `v2-binary`,
// `train-json`, `train-csv`). libFuzzer supplies `main`.
import AxonHTTP
import AxonServer
import Dispatch
import Foundation

/// The decoder under test, from AXON_FUZZ_BODY.
let body: RequestDecoders.Body = {
    let name = ProcessInfo.processInfo.environment["AXON_FUZZ_BODY"] ?? ""
    guard let body = RequestDecoders.Body(rawValue: name) else {
        let names = RequestDecoders.Body.allCases.map(\.rawValue).joined(separator: ", ")
        fatalError("AXON_FUZZ_BODY is \"\(name)\"; expected one of \(names)")
    }
    return body
}()

/// The state directory of the served models, removed at exit.
nonisolated(unsafe) var stateDirectory = ""

/// The served models, installed once before the first input (the only disk writes).
let context: APIContext = {
    stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("axon-fuzz-\(getpid())").path
    try? FileManager.default.removeItem(atPath: stateDirectory)
    let made = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<APIContext, any Error>?
    Task {
        do { result = .success(try await RequestDecoders.context(stateDirectory: stateDirectory)) } catch { result = .failure(error) }
        made.signal()
    }
    made.wait()
    atexit { try? FileManager.default.removeItem(atPath: stateDirectory) }
    switch result! {
    case .success(let context): return context
    case .failure(let error): fatalError("cannot set up the served models: \(error)")
    }
}()

/// A refusal must be a 4xx that names its cause; a 5xx or an error the server cannot map is a
/// finding, like a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func decoderFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        try RequestDecoders.decode(input, as: body, context: context)
    } catch let error as any HTTPResponseError {
        precondition((400 ..< 500).contains(error.status.code), "\(body.rawValue): \(error.status) \(error.code): \(error.message)")
    } catch {
        preconditionFailure("\(body.rawValue): not an HTTP error: \(error)")
    }
    return 0
}
