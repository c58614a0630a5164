import Foundation

/// One email as Herald sends it, before it is turned into bytes by `MIMEEncoder`.
///
/// It holds only what the email channel decides (addresses, subject, the two bodies, ids); everything MIME (boundaries,
/// transfer encodings, folding) is the encoder's business, so a test can build one of these without knowing RFC 2045.
public struct EmailMessage: Sendable, Hashable {
    public var from: EmailAddress
    public var to: [EmailAddress]
    public var replyTo: EmailAddress?
    public var subject: String
    /// The HTML body; with it the message is `multipart/alternative`.
    public var html: String?
    /// The plain-text body; when nil or empty and `html` is set, the encoder derives it from the HTML.
    public var text: String?
    /// The Message-ID without angle brackets (`msg_12.ev_abc@herald.example`); see `makeMessageID` for a stable one.
    public var messageID: String
    public var date: Date
    /// Headers written after the standard ones, in this order (`List-Unsubscribe`, `X-Herald-Event` …).
    public var extraHeaders: [EmailHeader]
    /// Files the message carries; with any, it is `multipart/mixed` around the bodies. A provider API
    /// that builds its own MIME sends these three fields (name, type, bytes) as its attachments.
    public var attachments: [EmailAttachment]

    public init(
        from: EmailAddress, to: [EmailAddress], replyTo: EmailAddress? = nil, subject: String, html: String? = nil, text: String? = nil,
        messageID: String, date: Date = Date(), extraHeaders: [EmailHeader] = [], attachments: [EmailAttachment] = []
    ) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.html = html
        self.text = text
        self.messageID = messageID
        self.date = date
        self.extraHeaders = extraHeaders
        self.attachments = attachments
    }
}
