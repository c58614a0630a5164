import Foundation

/// A file to attach to an event's emails, as a trigger (`attachments`) or an event type (its static
/// `attachments`) gives it: the bytes themselves, in base64, or, in a trigger only, a URL Herald fetches
/// once when the trigger is accepted.
///
/// ```json
/// {"filename": "invoice-42.pdf", "content_type": "application/pdf", "content": "JVBERi0xLjcK…"}
/// {"filename": "lease.pdf", "url": "https://files.example.com/lease.pdf"}
/// ```
///
/// Decoding checks only the shape (and that `content` is base64); what is allowed (sizes, types, names)
/// is ``AttachmentLimits``' business, so one answer lists every problem of a trigger.
public struct Attachment: Sendable, Codable, Hashable {
    /// The name the recipient sees (`invoice-42.pdf`).
    public var filename: String
    /// `application/pdf`; required with `content`, taken from the answer's `Content-Type` for a `url` when absent.
    public var contentType: String?
    /// The file's bytes (base64 in JSON).
    public var content: Data?
    /// Where to fetch the file from, once, when the trigger is accepted.
    public var url: String?

    public init(filename: String, contentType: String?, content: Data) {
        self.filename = filename
        self.contentType = contentType
        self.content = content
    }

    public init(filename: String, contentType: String? = nil, url: String) {
        self.filename = filename
        self.contentType = contentType
        self.url = url
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case filename
        case contentType = "content_type"
        case content, url
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        filename = try container.decode(String.self, forKey: .filename)
        contentType = try container.decodeIfPresent(String.self, forKey: .contentType)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        if let text = try container.decodeIfPresent(String.self, forKey: .content) {
            guard let data = Self.decodeBase64(text) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: container.codingPath + [CodingKeys.content],
                        debugDescription: "is not valid base64: use the standard alphabet (A-Z a-z 0-9 + /) with = padding"))
            }
            content = data
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(filename, forKey: .filename)
        try container.encodeIfPresent(contentType, forKey: .contentType)
        try container.encodeIfPresent(content?.base64EncodedString(), forKey: .content)
        try container.encodeIfPresent(url, forKey: .url)
    }

    /// Standard base64 with padding (RFC 4648 §4). Line breaks and spaces are skipped (base64 copied out of a
    /// MIME part has them); any other character outside the alphabet makes the whole text invalid, rather
    /// than being dropped as `ignoreUnknownCharacters` would.
    static func decodeBase64(_ text: String) -> Data? {
        var bytes = Array(text.utf8)
        if bytes.contains(where: Self.isSkippable) { bytes.removeAll(where: Self.isSkippable) }
        return Data(base64Encoded: Data(bytes))
    }

    private static func isSkippable(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
