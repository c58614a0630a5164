import Foundation

/// Reads the message after DATA's 354 as it streams in: removes dot-stuffing, finds the `CRLF.CRLF` that
/// ends it, and keeps at most `limit` bytes. Pure and incremental, so the end marker and a stuffed dot are
/// found however the reads split them, and memory stays bounded whatever the client sends.
///
/// Only CRLF ends a line: a bare LF or CR is message data, so `LF.LF` or `CR.CR` never ends the data
/// (treating them as line ends is what made "SMTP smuggling" possible). Lines have no length limit here:
/// an over-long line is passed through, and still counts toward the size.
struct InboundDataReader: Sendable {
    /// Bytes kept at most; the message past it is counted, not kept.
    let limit: Int
    /// The dot-unstuffed message so far; emptied for good once it grows past `limit`.
    private(set) var message: [UInt8] = []
    /// The message's size so far, counting the bytes not kept.
    private(set) var size = 0
    private(set) var tooLarge = false
    /// The end of data was read; nothing more is consumed.
    private(set) var finished = false
    private var position = Position.lineStart

    private enum Position: Sendable {
        /// After CRLF (or at the very start, the CRLF of the DATA line).
        case lineStart
        /// Within a line.
        case inLine
        /// After a CR within a line (which was kept).
        case carriageReturn
        /// After a dot that started a line (which was not kept).
        case dot
        /// After a dot that started a line, then CR (neither kept yet).
        case dotCarriageReturn
    }

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Consumes bytes until the end of data; returns how many it consumed (the rest belongs to the next command).
    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        let count = bytes.count
        var index = 0
        while index < count, !finished {
            switch position {
            case .inLine:
                // Copy everything up to the next CR in one go: a CR is the only byte that can end a line.
                let rest = count - index
                let end = memchr(base + index, 0x0D, rest).map { base.distance(to: UnsafeRawPointer($0)) } ?? count
                append(UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
                index = end
                if index < count {
                    append(byte: Self.cr)
                    position = .carriageReturn
                    index += 1
                }
            case .carriageReturn:
                let byte = bytes[index]
                index += 1
                append(byte: byte)
                position = byte == Self.lf ? .lineStart : byte == Self.cr ? .carriageReturn : .inLine
            case .lineStart:
                let byte = bytes[index]
                index += 1
                if byte == Self.dot {
                    position = .dot
                } else {
                    append(byte: byte)
                    position = byte == Self.cr ? .carriageReturn : .inLine
                }
            case .dot:
                // A line starting with a dot had one added by the client (RFC 5321 §4.5.2): drop it.
                let byte = bytes[index]
                index += 1
                if byte == Self.cr {
                    position = .dotCarriageReturn
                } else {
                    append(byte: byte)
                    position = .inLine
                }
            case .dotCarriageReturn:
                let byte = bytes[index]
                index += 1
                if byte == Self.lf {
                    finished = true
                } else {
                    // `.` CR and something else: the dot was stuffing, the CR is data.
                    append(byte: Self.cr)
                    append(byte: byte)
                    position = byte == Self.cr ? .carriageReturn : .inLine
                }
            }
        }
        return index
    }

    mutating func consume(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { consume($0) }
    }

    private mutating func append(_ run: UnsafeRawBufferPointer) {
        guard !run.isEmpty else { return }
        count(run.count)
        if !tooLarge { message.append(contentsOf: run) }
    }

    private mutating func append(byte: UInt8) {
        count(1)
        if !tooLarge { message.append(byte) }
    }

    /// Adds to the size; past the limit, drops what was kept so a large message never sits in memory.
    private mutating func count(_ added: Int) {
        let (sum, overflow) = size.addingReportingOverflow(added)
        size = overflow ? .max : sum
        if !tooLarge, size > limit {
            tooLarge = true
            message = []
        }
    }

    private static let cr: UInt8 = 0x0D
    private static let lf: UInt8 = 0x0A
    private static let dot = UInt8(ascii: ".")
}
