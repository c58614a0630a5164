import Foundation
import Herald
import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem document. Validation problems list each field and the reason, so a client can
/// point at the exact input to fix.
public struct ProblemDetails: Error, Encodable, Sendable {
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    public var errors: [FieldError]?
    /// The first field at fault, repeated at the top level for clients that show one message.
    public var field: String?
    /// Seconds for the `Retry-After` header of a 429.
    public var retryAfter: Int?

    enum CodingKeys: String, CodingKey { case type, title, status, detail, errors, field }

    public init(type: String, title: String, status: HTTPResponse.Status, detail: String, errors: [FieldError]? = nil) {
        self.type = "urn:herald:problem:" + type
        self.title = title
        self.status = status.code
        self.detail = detail
        self.errors = errors
        self.field = errors?.first?.field
    }

    public static let mediaType = "application/problem+json"

    public func response() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = Self.mediaType
        if status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(data: JSONCoding.encode(self))))
    }
}

extension ProblemDetails {
    /// Maps any error a handler throws to the problem a client should see. Unknown errors become a 500
    /// without internals; the log keeps the details.
    static func from(_ error: any Error) -> ProblemDetails {
        switch error {
        case let problem as ProblemDetails:
            return problem
        case let error as HeraldError:
            switch error {
            case .invalid(let errors):
                return ProblemDetails(
                    type: "invalid-request", title: "The request is not valid", status: .unprocessableContent,
                    detail: errors.map(\.description).joined(separator: "; "), errors: errors)
            case .notFound(let what):
                return ProblemDetails(type: "not-found", title: "Not found", status: .notFound, detail: "\(what) not found")
            case .conflict(let detail):
                return ProblemDetails(type: "conflict", title: "Conflict", status: .conflict, detail: detail)
            case .unauthorized(let detail):
                return ProblemDetails(type: "unauthorized", title: "Not authenticated", status: .unauthorized, detail: detail)
            case .forbidden(let detail):
                return ProblemDetails(type: "forbidden", title: "Forbidden", status: .forbidden, detail: detail)
            case .tooManyRequests(let detail, let retryAfter):
                var problem = ProblemDetails(type: "too-many-requests", title: "Too many requests", status: .tooManyRequests, detail: detail)
                problem.retryAfter = max(1, Seconds(clamping: retryAfter).wholeSecondsRoundedUp)
                return problem
            }
        case let error as DecodingError:
            return decoding(error)
        case is NIOTooManyBytesError:
            return ProblemDetails(
                type: "body-too-large", title: "Request body too large", status: .contentTooLarge,
                detail: "the request body is larger than this endpoint accepts", errors: [FieldError("body", "is larger than the limit")])
        case let error as HTTPError:
            let status = error.status
            let slug: String
            switch status {
            case .notFound: slug = "not-found"
            case .methodNotAllowed: slug = "method-not-allowed"
            case .contentTooLarge: slug = "body-too-large"
            default: slug = status.code >= 500 ? "internal" : "bad-request"
            }
            return ProblemDetails(type: slug, title: status.reasonPhrase, status: status, detail: error.body ?? status.reasonPhrase)
        default:
            return ProblemDetails(
                type: "internal", title: "Internal server error", status: .internalServerError,
                detail: "the server failed to handle this request; it has been logged")
        }
    }

    /// Malformed JSON is a 400; JSON of the wrong shape is a 422 naming the field.
    static func decoding(_ error: DecodingError) -> ProblemDetails {
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
            let underlying = context.underlyingError.map { " (\($0.localizedDescription))" } ?? ""
            return ProblemDetails(
                type: "malformed-json", title: "The body is not valid JSON", status: .badRequest,
                detail: "the request body could not be parsed as JSON\(underlying)", errors: [FieldError("body", "is not valid JSON")])
        }
        let field = error.fieldPath
        var reason = error.heraldDescription
        if !field.isEmpty, reason.hasPrefix(field + ": ") { reason = String(reason.dropFirst(field.count + 2)) }
        let fieldError = FieldError(field.isEmpty ? "body" : field, reason)
        return ProblemDetails(
            type: "invalid-request", title: "The request is not valid", status: .unprocessableContent, detail: fieldError.description,
            errors: [fieldError])
    }
}
