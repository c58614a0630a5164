import Foundation

extension MIMEEncoder {
    /// Names up to this long that are plain printable ASCII go in a quoted-string; others are written in
    /// RFC 2231's form, in pieces of at most this many characters, so no header line passes 78.
    static let plainParameterLimit = 60

    /// One attachment's body part: its headers (`Content-Type` with `name`, `Content-Disposition:
    /// attachment` with `filename`, base64) and its bytes in base64, in lines of 76 characters with CRLF,
    /// without a final line break (the one before the next boundary belongs to the boundary).
    ///
    /// The name is header text, checked like any (`EmailHeader.problem(in:)`): one that slipped past intake
    /// fails this message rather than adding a header of its own.
    static func attachmentPart(_ attachment: EmailAttachment) throws -> (headers: String, body: Data) {
        if let reason = EmailHeader.problem(in: attachment.filename) { throw MIMEError.unsafeHeader(name: "Content-Disposition", reason: reason) }
        if let reason = EmailHeader.problem(in: attachment.contentType) { throw MIMEError.unsafeHeader(name: "Content-Type", reason: reason) }
        let type =
            AttachmentLimits.problem(contentType: attachment.contentType) == nil
            ? AttachmentLimits.normalized(contentType: attachment.contentType) : "application/octet-stream"
        let name = attachment.filename.isEmpty ? "attachment" : attachment.filename
        let headers =
            (["Content-Type: \(type);"] + parameter("name", name) + ["Content-Disposition: attachment;"] + parameter("filename", name)
            + ["Content-Transfer-Encoding: base64"]).joined(separator: "\r\n")
        let body = attachment.content.base64EncodedData(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return (headers, body)
    }

    /// A header parameter as folded lines, each starting with a space and all but the last ending with `;`:
    /// `name="invoice.pdf"` when the value is short printable ASCII, else RFC 2231 `name*=utf-8''…`
    /// (percent-encoded UTF-8), cut into numbered pieces (`name*0*=`, `name*1*=` …) when long. Pieces end
    /// between percent-escapes, never inside one.
    ///
    ///     parameter("filename", "Résumé.pdf")   // [" filename*=utf-8''R%C3%A9sum%C3%A9.pdf"]
    static func parameter(_ name: String, _ value: String) -> [String] {
        let plain = value.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) }
        if plain, value.utf8.count <= plainParameterLimit {
            var quoted = "\""
            for character in value {
                if character == "\"" || character == "\\" { quoted.append("\\") }
                quoted.append(character)
            }
            return [" \(name)=\(quoted)\""]
        }
        var units: [String] = []
        for byte in value.utf8 {
            if isAttributeCharacter(byte) {
                units.append(String(UnicodeScalar(byte)))
            } else {
                units.append("%" + HeaderFieldWriter.hexByte(byte))
            }
        }
        var pieces: [String] = ["utf-8''"]
        for unit in units {
            if pieces[pieces.count - 1].utf8.count + unit.utf8.count > plainParameterLimit { pieces.append("") }
            pieces[pieces.count - 1] += unit
        }
        if pieces.count == 1 { return [" \(name)*=\(pieces[0])"] }
        return pieces.enumerated().map { index, piece in " \(name)*\(index)*=\(piece)" + (index < pieces.count - 1 ? ";" : "") }
    }

    /// RFC 5987 `attr-char`: what RFC 2231's extended values keep as it is.
    private static func isAttributeCharacter(_ byte: UInt8) -> Bool {
        EmailAddress.isASCIIAlphanumeric(Unicode.Scalar(byte)) || "!#$&+-.^_`|~".utf8.contains(byte)
    }
}
