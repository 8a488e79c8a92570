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
}
