import Foundation

/// How a body part is made 7-bit safe for SMTP: quoted-printable for text that is mostly ASCII (it stays readable in the
/// raw message), base64 for text that is mostly not (quoted-printable would triple it).
///
/// Both produce CRLF line endings and lines of at most 76 characters, whatever line endings the text had.
public enum ContentTransferEncoding: String, Sendable, Hashable, CaseIterable {
    case quotedPrintable = "quoted-printable"
    case base64

    /// Base64 once more than a third of the bytes would need escaping: from there quoted-printable is both longer and
    /// no longer readable.
    public static func preferred(for text: String) -> ContentTransferEncoding {
        let bytes = Array(text.utf8)
        let escaped = bytes.count { $0 >= 0x80 || $0 == UInt8(ascii: "=") || ($0 < 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09) }
        return escaped * 3 > bytes.count ? .base64 : .quotedPrintable
    }

    /// `text` encoded, with its line breaks (LF, CRLF or CR) written as CRLF.
    public func encode(_ text: String) -> String {
        let lines = Self.lines(of: text)
        switch self {
        case .quotedPrintable:
            return lines.flatMap { Self.quotedPrintableLines(Array($0.utf8)) }.joined(separator: "\r\n")
        case .base64:
            let encoded = Data(lines.joined(separator: "\r\n").utf8).base64EncodedString()
            var output: [Substring] = []
            var start = encoded.startIndex
            while start < encoded.endIndex {
                let end = encoded.index(start, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
                output.append(encoded[start..<end])
                start = end
            }
            return output.joined(separator: "\r\n")
        }
    }

    /// The logical lines of `text`, whatever its line endings.
    static func lines(of text: String) -> [Substring] {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
    }

    /// One logical line in quoted-printable (RFC 2045 §6.7): physical lines of at most 76 characters, each but the last
    /// ending in a soft break `=`. A soft break never cuts an `=XX` escape, nor the escapes of one UTF-8 character, so
    /// even a reader that decodes line by line sees whole characters.
    ///
    /// Besides `=` and bytes outside printable ASCII, it escapes whitespace at the end of the line (transports strip it),
    /// a `.` starting a physical line and the `F` of a line starting `From ` (transports and mbox files alter both).
    static func quotedPrintableLines(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var current = ""
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length = min(bytes.count - index, byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1)
            let isLast = index + length == bytes.count
            var piece: String
            switch byte {
            case 0x20, 0x09:
                piece = isLast ? "=" + HeaderFieldWriter.hexByte(byte) : String(Unicode.Scalar(byte))
            case 0x21...0x7E where byte != UInt8(ascii: "="):
                piece = String(Unicode.Scalar(byte))
            default:
                piece = bytes[index..<(index + length)].map { "=" + HeaderFieldWriter.hexByte($0) }.joined()
            }
            // A soft break needs one column for its `=`, except after the line's last piece.
            if current.utf8.count + piece.utf8.count > (isLast ? 76 : 75) {
                lines.append(current + "=")
                current = ""
            }
            if current.isEmpty, byte == UInt8(ascii: ".") || (byte == UInt8(ascii: "F") && bytes[index...].starts(with: Array("From ".utf8))) {
                piece = "=" + HeaderFieldWriter.hexByte(byte)
            }
            current += piece
            index += length
        }
        lines.append(current)
        return lines
    }
}
