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
    ///
    /// Works on UTF-8 bytes throughout: this runs for every email, and Foundation's string searching is
    /// the slowest part of composing one when used here.
    public func encode(_ text: String) -> String {
        let lines = Self.lines(of: Array(text.utf8))
        var output: [UInt8] = []
        switch self {
        case .quotedPrintable:
            output.reserveCapacity(text.utf8.count + text.utf8.count / 4 + 16)
            for (number, line) in lines.enumerated() {
                if number > 0 { output += Self.crlf }
                Self.appendQuotedPrintable(line, to: &output)
            }
        case .base64:
            var joined: [UInt8] = []
            joined.reserveCapacity(text.utf8.count + lines.count)
            for (number, line) in lines.enumerated() {
                if number > 0 { joined += Self.crlf }
                joined += line
            }
            let encoded = Array(Data(joined).base64EncodedString().utf8)
            output.reserveCapacity(encoded.count + encoded.count / 38 + 2)
            for start in stride(from: 0, to: encoded.count, by: 76) {
                if start > 0 { output += Self.crlf }
                output += encoded[start..<min(start + 76, encoded.count)]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static let crlf: [UInt8] = [0x0D, 0x0A]

    /// The logical lines of `bytes`, whatever its line endings (LF, CRLF or CR).
    static func lines(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                lines.append(bytes[start..<index])
                if byte == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                start = index + 1
            }
            index += 1
        }
        lines.append(bytes[start..<bytes.count])
        return lines
    }

    /// One logical line in quoted-printable (RFC 2045 §6.7), as physical lines of at most 76 characters joined by
    /// soft breaks (`=` CRLF). A soft break never cuts an `=XX` escape, nor the escapes of one UTF-8 character, so
    /// even a reader that decodes line by line sees whole characters.
    ///
    /// Besides `=` and bytes outside printable ASCII, it escapes whitespace at the end of the line (transports strip it),
    /// a `.` starting a physical line and the `F` of a line starting `From ` (transports and mbox files alter both).
    static func appendQuotedPrintable(_ bytes: ArraySlice<UInt8>, to output: inout [UInt8]) {
        var column = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            let length = min(bytes.endIndex - index, byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1)
            let isLast = index + length == bytes.endIndex
            let literal =
                length == 1
                && ((0x21...0x7E).contains(byte) && byte != UInt8(ascii: "=") || (byte == 0x20 || byte == 0x09) && !isLast)
            let width = literal ? 1 : 3 * length
            // A soft break needs one column for its `=`, except after the line's last piece.
            if column + width > (isLast ? 76 : 75) {
                output += [UInt8(ascii: "="), 0x0D, 0x0A]
                column = 0
            }
            let escapeAtLineStart =
                column == 0 && (byte == UInt8(ascii: ".") || (byte == UInt8(ascii: "F") && bytes[index...].starts(with: "From ".utf8)))
            if literal, !escapeAtLineStart {
                output.append(byte)
                column += 1
            } else {
                for escaped in bytes[index..<(index + length)] {
                    output += [UInt8(ascii: "="), hexDigits[Int(escaped >> 4)], hexDigits[Int(escaped & 0x0F)]]
                }
                column += 3 * length
            }
            index += length
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
}
