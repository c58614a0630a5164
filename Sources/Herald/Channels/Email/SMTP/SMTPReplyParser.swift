/// Assembles reply lines into replies: `250-first`, `250-second`, `250 last` is one reply of three lines.
///
/// Each line is three digits, then `-` (more lines follow) or a space (the last line), then text. A line
/// that does not fit, or a continuation with a different code, is a protocol error: the connection
/// cannot be trusted after it.
public struct SMTPReplyParser: Sendable {
    /// Longest reply line accepted (RFC 5321 §4.5.3.1.5 says 512; servers are lenient, so allow more).
    public static let maximumLineLength = 4096
    /// Most lines in one reply; a server sending more is broken or hostile.
    public static let maximumLines = 256

    private var code: Int?
    private var lines: [String] = []

    public init() {}

    /// Whether a reply is partly read.
    public var isMidReply: Bool { code != nil }

    /// Feeds one line (without its CRLF). Returns a reply when the line completed one.
    public mutating func feed(_ line: Substring) throws(SMTPError) -> SMTPReply? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes.count <= Self.maximumLineLength, bytes[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            bytes[0] >= 0x32, bytes[0] <= 0x35
        else {
            throw .malformedReply(String(line.prefix(120)))
        }
        let lineCode = Int(bytes[0] - 0x30) * 100 + Int(bytes[1] - 0x30) * 10 + Int(bytes[2] - 0x30)
        let separator: UInt8 = bytes.count > 3 ? bytes[3] : 0x20
        guard separator == 0x20 || separator == 0x2D else { throw .malformedReply(String(line.prefix(120))) }
        if let code, code != lineCode { throw .malformedReply("a continuation line changed the reply code from \(code) to \(lineCode)") }
        code = lineCode
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        if lines.count > Self.maximumLines { throw .malformedReply("a reply of more than \(Self.maximumLines) lines") }
        guard separator == 0x20 else { return nil }
        defer {
            self.code = nil
            self.lines = []
        }
        return SMTPReply(code: lineCode, lines: lines)
    }
}
