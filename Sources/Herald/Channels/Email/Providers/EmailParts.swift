import Foundation

/// An email as the parts a provider that writes its own MIME wants: the two bodies (the text one derived from the
/// HTML as the encoder would), Herald's extra headers, and the attachments.
struct EmailParts {
    var text: String
    var html: String?
    var headers: [EmailHeader]
    var attachments: [EmailAttachment]

    init(_ message: EmailMessage) {
        html = message.html.flatMap { $0.isEmpty ? nil : $0 }
        text = message.text.flatMap { $0.isEmpty ? nil : $0 } ?? html.map(HTMLToText.convert) ?? ""
        headers = message.extraHeaders
        attachments = message.attachments
    }

    /// `"Jane Doe" <jane@clinic.example>` with the name quoted (backslash and quote escaped), or the bare address.
    static func display(_ address: EmailAddress) -> String {
        guard let name = address.name else { return address.address }
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\" <\(address.address)>"
    }
}
