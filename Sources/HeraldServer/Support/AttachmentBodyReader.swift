import Herald
import Hummingbird
import NIOCore

/// Reads the body of a request that may carry email attachments (`POST /v1/events`, the bulk form, `PUT
/// /v1/event-types/{key}`): everything outside the attachments is held to the ordinary limit
/// (`server.max_body_bytes`), and the attachments get ``AttachmentLimits/bodyAllowance`` more (their base64).
///
/// A body over the ordinary limit is held only with a place in the ``LargeBodyGate`` (429 without one), and
/// never beyond the two limits together: past them the reader stops, and the answer names the file the
/// body was cut in (`attachments[0].content`, 422 like any file too large) or, when the cut falls
/// elsewhere, is a 413. A body within the limits whose part outside the attachments is too large is a 413
/// too, as it always was.
struct AttachmentBodyReader: Sendable {
    /// The limit for what lies outside the attachments.
    let baseLimit: Int
    let limits: AttachmentLimits
    let gate: LargeBodyGate
    /// Whether a JSON path is where attachments go (`attachments`, `events[2].attachments`).
    let isAttachments: @Sendable ([JSONPathScanner.Component]) -> Bool

    /// The request's body, then `handle` with it, holding the gate's place (if the body needed one) until
    /// `handle` returns.
    func withBody<T>(_ request: Request, _ handle: (ByteBuffer) async throws -> T) async throws -> T {
        let limit = baseLimit + limits.bodyAllowance
        var buffer = ByteBuffer()
        var entered = false
        defer { if entered { gate.leave() } }
        var cut = false
        for try await var part in request.body {
            if buffer.readableBytes + part.readableBytes > baseLimit, !entered {
                guard gate.enter() else {
                    throw HeraldError.tooManyRequests(
                        "too many requests with attachments are being read at once; try again in a moment", retryAfter: 1)
                }
                entered = true
            }
            if buffer.readableBytes + part.readableBytes > limit {
                if var kept = part.readSlice(length: limit - buffer.readableBytes) { buffer.writeBuffer(&kept) }
                cut = true
                break
            }
            buffer.writeBuffer(&part)
        }
        if buffer.readableBytes > baseLimit {
            let scan = buffer.withUnsafeReadableBytes { JSONPathScanner.scan($0) { path in isAttachments(path) } }
            if cut, let field = attachmentField(scan.pathAtEnd) {
                throw HeraldError.invalid(
                    field,
                    "is too large: a trigger's files may hold \(AttachmentLimits.bytes(limits.maxTotalBytes)) in all, and the request body "
                        + "reached its limit of \(limit) bytes inside this one")
            }
            if cut || scan.outside > baseLimit {
                throw ProblemDetails(
                    type: "body-too-large", title: "Request body too large", status: .contentTooLarge,
                    detail: "the request body is larger than this endpoint accepts: \(baseLimit) bytes besides the attachments",
                    errors: [FieldError("body", "is larger than the limit")])
            }
        }
        return try await handle(buffer)
    }

    /// The field of the attachment `path` lies in (`attachments[0].content`), or nil when it is not in one.
    private func attachmentField(_ path: [JSONPathScanner.Component]) -> String? {
        for length in stride(from: path.count, through: 1, by: -1) where isAttachments(Array(path.prefix(length))) {
            return JSONPathScanner.fieldPath(path)
        }
        return nil
    }
}
