import AxonSupport
import Checkpoint

/// Why a `ModelStore` operation failed. `code` is stable; each case maps to one HTTP status
/// (AxonServer's `status`); `description` carries the full detail (paths, errno) for the log, while `message`
/// is what a client may see.
///
/// | case | status | code |
/// |---|---|---|
/// | `invalidModelName` | 400 | `invalid_model_name` |
/// | `modelNotFound` | 404 | `model_not_found` |
/// | `versionNotFound` | 404 | `version_not_found` |
/// | `tooManyModels` | 409 | `too_many_models` |
/// | `versionConflict` | 409 | `version_conflict` |
/// | `versionUnreadable` | 409 | `version_unreadable` |
/// | `modelDeleted` | 409 | `model_deleted` |
/// | `readOnly` | 409 | `read_only` |
/// | `modelNotStorable` | 422 | `model_not_storable` |
/// | `writeFailed`, disk full or file too large | 507 | `insufficient_storage` |
/// | `writeFailed`, any other errno | 500 | `storage_error` |
/// | `storageFailed` | 500 | `storage_error` |
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name breaks the rule: 1-64 characters of `[A-Za-z0-9._-]`, not starting with `.`.
    case invalidModelName(name: String, reason: String)
    /// No model of that name is loaded.
    case modelNotFound(name: String)
    /// The model has no retained version with that number.
    case versionNotFound(name: String, version: UInt64)
    /// Installing a new model would exceed `limits.max_models`.
    case tooManyModels(limit: Int)
    /// Another process committed the same version number at the same moment, repeatedly.
    case versionConflict(name: String, version: UInt64)
    /// The version's file failed verification; it was moved to quarantine if corrupt.
    case versionUnreadable(name: String, version: UInt64, reason: String)
    /// The model cannot be written as a checkpoint (e.g. beyond the checkpoint size limits).
    case modelNotStorable(name: String, reason: String)
    /// The model was deleted after the work that would install it began (`DeletionMark`):
    /// the delete wins and nothing is installed.
    case modelDeleted(name: String)
    /// The store serves a read-only state directory (`read_only`) and never writes to it.
    /// The write routes refuse first with 405 (`APIContext.refuseIfReadOnly`); this is the store's own guard.
    case readOnly(operation: String)
    /// Persisting failed (ENOSPC, EFBIG, EIO, EROFS, ...); nothing changed in memory, the
    /// previous version keeps serving.
    case writeFailed(name: String, StorageError)
    /// Reading or updating the state directory failed for another reason.
    case storageFailed(name: String, StorageError)

    /// A one-line explanation with every detail, for logs.
    public var description: String {
        switch self {
        case .writeFailed(let name, let error):
            return "model '\(name)' could not be saved, the previous version keeps serving: \(error)"
        case .storageFailed(let name, let error):
            return "state directory operation on model '\(name)' failed: \(error)"
        default:
            return message
        }
    }
}

extension StoreError {
    /// Whether the disk, not the request, is at fault: out of space or over the file-size limit.
    public var isStorageExhausted: Bool {
        guard case .writeFailed(_, let error) = self else { return false }
        switch error.condition {
        case .diskFull, .fileTooLarge: return true
        default: return false
        }
    }

    /// What a client may read: no paths, no errno names.
    public var message: String {
        switch self {
        case .invalidModelName(let name, let reason):
            return "model: invalid name \"\(name.excerpt)\": \(reason) (1-64 characters of A-Z, a-z, 0-9, '.', '_', '-', not starting with '.')"
        case .modelNotFound(let name):
            return "model \"\(name)\" not found"
        case .versionNotFound(let name, let version):
            return "model \"\(name)\" has no version \(version)"
        case .tooManyModels(let limit):
            return "the store already holds \(limit) models, the limit limits.max_models; delete a model first"
        case .versionConflict(let name, let version):
            return "model \"\(name)\" version \(version) was written concurrently by another process; retry"
        case .versionUnreadable(let name, let version, _):
            return "model \"\(name)\" version \(version) failed verification and cannot serve"
        case .modelNotStorable(let name, let reason):
            return "model \"\(name)\" cannot be stored: \(reason)"
        case .modelDeleted(let name):
            return "model \"\(name)\" was deleted while the job was queued or training; nothing was installed"
        case .readOnly(let operation):
            return "\(operation) is refused: this server is read-only (read_only); it serves the models in its state directory and never writes there"
        case .writeFailed(let name, _):
            if isStorageExhausted {
                return "model \"\(name)\" could not be saved: the state directory is out of space; the previous version keeps serving"
            }
            return "model \"\(name)\" could not be saved; the previous version keeps serving"
        case .storageFailed(let name, _):
            return "the state directory could not be read for model \"\(name)\""
        }
    }
}

extension StoreError {
    /// The stable machine-readable code.
    public var code: String {
        switch self {
        case .invalidModelName: return "invalid_model_name"
        case .modelNotFound: return "model_not_found"
        case .versionNotFound: return "version_not_found"
        case .tooManyModels: return "too_many_models"
        case .versionConflict: return "version_conflict"
        case .versionUnreadable: return "version_unreadable"
        case .modelNotStorable: return "model_not_storable"
        case .modelDeleted: return "model_deleted"
        case .readOnly: return "read_only"
        case .writeFailed: return isStorageExhausted ? "insufficient_storage" : "storage_error"
        case .storageFailed: return "storage_error"
        }
    }
}
