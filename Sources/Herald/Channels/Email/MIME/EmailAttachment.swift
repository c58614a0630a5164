import Foundation

/// One file an email carries, as the email channel holds it: checked when its event was accepted
/// (``AttachmentLimits``), stored with the event, and read back for every recipient and every retry.
///
/// ``MIMEEncoder`` writes it as a base64 part of a `multipart/mixed` message; a provider API that builds
/// its own MIME (SendGrid, Postmark) takes the same three fields from ``EmailMessage/attachments``.
public struct EmailAttachment: Sendable, Hashable {
    /// The name the recipient sees; free of line breaks and control characters, at most
    /// ``AttachmentLimits/maxFilenameBytes`` bytes of UTF-8.
    public var filename: String
    /// The media type, `type/subtype` with optional parameters (`text/csv; charset=utf-8`).
    public var contentType: String
    /// The file's bytes.
    public var content: Data

    public init(filename: String, contentType: String, content: Data) {
        self.filename = filename
        self.contentType = contentType
        self.content = content
    }

    /// What `GET /v1/events/{id}` shows of it.
    public var summary: AttachmentSummary {
        AttachmentSummary(filename: filename, contentType: contentType, size: content.count)
    }
}
