import AxonHTTP
import AxonStore

/// The store's errors as HTTP answers; the store itself knows nothing of HTTP.
extension StoreError: HTTPResponseError {
    /// 507 Insufficient Storage (RFC 4918): the disk, not the request, is at fault.
    static let insufficientStorage = HTTPStatus(507)

    /// The HTTP status this error answers with.
    public var status: HTTPStatus {
        switch self {
        case .invalidModelName: return .badRequest
        case .modelNotFound, .versionNotFound: return .notFound
        case .tooManyModels, .versionConflict, .versionUnreadable, .modelDeleted, .readOnly: return .conflict
        case .modelNotStorable: return .unprocessableContent
        case .writeFailed: return isStorageExhausted ? Self.insufficientStorage : .internalServerError
        case .storageFailed: return .internalServerError
        }
    }

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
