/// An attachment of a stored event as `GET /v1/events/{id}` shows it: its name, type and size, never its
/// bytes (they can be megabytes, and the event's messages are what the answer is about).
public struct AttachmentSummary: Sendable, Codable, Hashable {
    public var filename: String
    public var contentType: String
    /// The file's size in bytes (decoded, not base64).
    public var size: Int

    public init(filename: String, contentType: String, size: Int) {
        self.filename = filename
        self.contentType = contentType
        self.size = size
    }

    enum CodingKeys: String, CodingKey {
        case filename, size
        case contentType = "content_type"
    }
}
