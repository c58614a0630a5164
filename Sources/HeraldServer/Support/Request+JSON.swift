import Foundation
import Herald
import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    /// Reads the body (up to the context's limit) and decodes it with Herald's JSON rules, so a bad body
    /// becomes a problem naming the field rather than a generic 400, and an unknown field is refused by name.
    func decodeJSON<T: Decodable>(_ type: T.Type, context: HeraldRequestContext) async throws -> T {
        try Self.decodeJSON(T.self, body: try await body.collect(upTo: context.bodyLimit))
    }

    /// Decodes a body already read (``AttachmentBodyReader``) by the rules of ``decodeJSON(_:context:)``.
    static func decodeJSON<T: Decodable>(_ type: T.Type, body buffer: ByteBuffer) throws -> T {
        guard buffer.readableBytes > 0 else {
            throw ProblemDetails(
                type: "malformed-json", title: "The body is not valid JSON", status: .badRequest,
                detail: "the request body is empty; send a JSON object",
                errors: [FieldError("body", "is empty")])
        }
        return try decodeJSON(T.self, from: buffer)
    }

    /// Like `decodeJSON`, for endpoints whose body is optional: an empty body is nil.
    func decodeJSONIfPresent<T: Decodable>(_ type: T.Type, context: HeraldRequestContext) async throws -> T? {
        let buffer = try await body.collect(upTo: context.bodyLimit)
        guard buffer.readableBytes > 0 else { return nil }
        return try Self.decodeJSON(T.self, from: buffer)
    }

    /// Decodes a body that is not empty. JSON is UTF-8 (RFC 8259 §8.1): bytes that are not are a 400 saying
    /// so, where the decoder would report them as a wrong value at some field (a misleading 422).
    private static func decodeJSON<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        guard String(validating: buffer.readableBytesView, as: UTF8.self) != nil else {
            throw ProblemDetails(
                type: "malformed-json", title: "The body is not valid JSON", status: .badRequest,
                detail: "the request body is not valid UTF-8 JSON; JSON text must be encoded as UTF-8",
                errors: [FieldError("body", "is not valid UTF-8")])
        }
        return try JSONCoding.requestDecoder.decode(T.self, from: Data(buffer: buffer))
    }

    /// A query parameter parsed as a bounded integer, or the default.
    func intQuery(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = uri.queryParameters.get(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw HeraldError.invalid(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func dateQuery(_ name: String) throws -> Date? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let date = Timestamp.parse(text) else { throw HeraldError.invalid(name, "must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z") }
        return date
    }

    func enumQuery<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws -> E? where E.RawValue == String {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let value = E(rawValue: text) else {
            throw HeraldError.invalid(name, "'\(text)' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

/// JSON responses encoded the same way as everything Herald stores.
enum JSONResponse {
    static func make<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: JSONCoding.encode(value))))
    }

    static func noContent() -> Response {
        Response(status: .noContent)
    }
}
