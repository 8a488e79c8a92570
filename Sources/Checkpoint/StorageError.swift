#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system call that failed, named so logs say what the disk refused.
public enum FileOperation: String, Sendable, Equatable {
    /// `open(2)`.
    case open
    /// `read(2)`.
    case read
    /// `write(2)`.
    case write
    /// `fsync(2)` of a file or a directory.
    case fsync
    /// `close(2)`, which can report deferred write errors.
    case close
    /// `rename(2)`.
    case rename
    /// `link(2)`, used to install a version without replacing an existing one.
    case link
    /// `unlink(2)`.
    case unlink
    /// `stat(2)` or `fstat(2)`.
    case stat
    /// `mkdir(2)`.
    case mkdir
    /// `opendir(3)`.
    case opendir
    /// `rmdir(2)`.
    case rmdir
}

/// Why a state-directory operation failed. I/O failures keep the errno and the path, so
/// "disk full" (ENOSPC), "file too large" (EFBIG), EIO, EROFS and EACCES read as what they are.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed.
    case systemCall(FileOperation, path: String, errno: Int32)
    /// A file is larger than the configured read limit; it was not read.
    case fileTooLarge(path: String, size: UInt64, limit: UInt64)
    /// A path that must be a regular file is something else.
    case notRegularFile(path: String)
    /// A model name breaks the naming rule.
    case invalidModelName(String, reason: String)
    /// No model of that name exists in the state directory.
    case modelNotFound(String)
    /// The model has no retained file for that version.
    case versionNotFound(model: String, version: UInt64)
    /// Another writer already committed that version.
    case versionExists(model: String, version: UInt64)
    /// A checkpoint file failed verification.
    case corrupt(path: String, CheckpointError)
    /// The current-version marker does not hold a version number.
    case invalidCurrentMarker(path: String, contents: String)
    /// The checkpoint handed in for writing cannot be encoded.
    case invalidCheckpoint(CheckpointError)

    /// The storage conditions a caller treats differently (a full disk is an operator's
    /// problem, a missing file is not), derived from the errno.
    public enum Condition: Sendable, Equatable {
        /// ENOSPC or EDQUOT.
        case diskFull
        /// EFBIG: beyond the file-size limit of the process or the file system.
        case fileTooLarge
        /// EIO: the device failed.
        case ioError
        /// EROFS.
        case readOnly
        /// EACCES or EPERM.
        case permissionDenied
        /// ENOENT.
        case notFound
        /// Any other errno.
        case other
    }

    /// What kind of failure a system-call error is; nil for the non-I/O cases.
    public var condition: Condition? {
        guard let code = errno else { return nil }
        switch code {
        case ENOSPC, EDQUOT: return .diskFull
        case EFBIG: return .fileTooLarge
        case EIO: return .ioError
        case EROFS: return .readOnly
        case EACCES, EPERM: return .permissionDenied
        case ENOENT: return .notFound
        default: return .other
        }
    }

    /// The errno of a failed system call, if this is one.
    public var errno: Int32? {
        if case .systemCall(_, _, let code) = self { return code }
        return nil
    }

    /// A one-line explanation for logs and API errors.
    public var description: String {
        switch self {
        case .systemCall(let operation, let path, let code):
            return "\(operation.rawValue) \(path): \(Self.errnoName(code)) (\(String(cString: strerror(code))))"
        case .fileTooLarge(let path, let size, let limit):
            return "\(path) is \(size) bytes, larger than the \(limit)-byte limit"
        case .notRegularFile(let path):
            return "\(path) is not a regular file"
        case .invalidModelName(let name, let reason):
            return "invalid model name '\(name)': \(reason)"
        case .modelNotFound(let name):
            return "model '\(name)' not found"
        case .versionNotFound(let model, let version):
            return "model '\(model)' has no version \(version)"
        case .versionExists(let model, let version):
            return "model '\(model)' version \(version) already exists"
        case .corrupt(let path, let error):
            return "\(path): \(error)"
        case .invalidCurrentMarker(let path, let contents):
            return "\(path) does not hold a version number: '\(contents)'"
        case .invalidCheckpoint(let error):
            return "checkpoint cannot be encoded: \(error)"
        }
    }

    /// The symbolic name of the errno values a storage layer meets, for grep-able logs.
    public static func errnoName(_ code: Int32) -> String {
        switch code {
        case ENOSPC: return "ENOSPC"
        case EFBIG: return "EFBIG"
        case EIO: return "EIO"
        case EROFS: return "EROFS"
        case EACCES: return "EACCES"
        case EPERM: return "EPERM"
        case ENOENT: return "ENOENT"
        case EEXIST: return "EEXIST"
        case EDQUOT: return "EDQUOT"
        case ENOTDIR: return "ENOTDIR"
        case EISDIR: return "EISDIR"
        case EXDEV: return "EXDEV"
        case ENOTEMPTY: return "ENOTEMPTY"
        case EMFILE: return "EMFILE"
        case ENFILE: return "ENFILE"
        case ENAMETOOLONG: return "ENAMETOOLONG"
        case EINVAL: return "EINVAL"
        default: return "errno \(code)"
        }
    }
}
