import AxonHTTP
import AxonAPI
import Foundation

extension JobSnapshot.Failure {
    /// A failure that a waiting request (`?wait=true`) is answered with `status` for.
    init(code: String, message: String, status: HTTPStatus) {
        self.init(code: code, message: message, httpStatus: status.code)
    }

    /// The status `?wait=true` answers with; 500 for a failure restored without one.
    var status: HTTPStatus { httpStatus.map(HTTPStatus.init) ?? .internalServerError }
}

extension Date {
    /// ISO 8601 in UTC, to the second.
    var iso8601: String { ISO8601Format() }
}
