/// Something a scan found wrong or repaired. None of these stops the scan.
public struct ScanProblem: Sendable, CustomStringConvertible {
    /// What happened.
    public enum Kind: Sendable, Equatable {
        /// An entry under `models/` is not a valid model name.
        case invalidModelName(reason: String)
        /// An entry that is neither a model directory, a version file, `CURRENT`, nor a leftover.
        case unexpectedEntry
        /// Reading failed (permissions, I/O error, or beyond the configured limits); the file
        /// was left where it is.
        case unreadable(StorageError)
        /// A version file failed verification; `quarantinedTo` is its new path if it was moved.
        case corrupt(CheckpointError, quarantinedTo: String?)
        /// A corrupt file could not be moved to quarantine.
        case quarantineFailed(StorageError)
        /// `CURRENT` does not hold a version number.
        case invalidCurrentMarker(contents: String)
        /// The marked version could not be served; an older or newer one serves instead.
        case fellBack(from: UInt64, to: UInt64)
        /// Rewriting `CURRENT` after a fall-back failed.
        case repairFailed(StorageError)
        /// No version of the model could be loaded.
        case noLoadableVersion
        /// A stale temporary file or trash directory was removed.
        case removedLeftover
    }

    /// The model concerned, if any.
    public var model: String?
    /// The path concerned.
    public var path: String
    /// What happened.
    public var kind: Kind

    /// One line for the log.
    public var description: String {
        let subject = model.map { "model '\($0)' " } ?? ""
        switch kind {
        case .invalidModelName(let reason): return "\(path): ignored, invalid model name (\(reason))"
        case .unexpectedEntry: return "\(path): ignored, unexpected entry"
        case .unreadable(let error): return "\(subject)unreadable: \(error)"
        case .corrupt(let error, let destination):
            return "\(subject)\(path) is corrupt (\(error))" + (destination.map { ", quarantined to \($0)" } ?? "")
        case .quarantineFailed(let error): return "\(subject)\(path) could not be quarantined: \(error)"
        case .invalidCurrentMarker(let contents): return "\(subject)\(path) is not a version number: '\(contents)'"
        case .fellBack(let from, let to): return "\(subject)version \(from) cannot serve, serving version \(to)"
        case .repairFailed(let error): return "\(subject)CURRENT could not be repaired: \(error)"
        case .noLoadableVersion: return "\(subject)has no loadable version"
        case .removedLeftover: return "\(path): removed stale leftover"
        }
    }
}
