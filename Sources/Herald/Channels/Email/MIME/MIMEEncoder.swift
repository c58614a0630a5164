import Foundation

/// Turns an `EmailMessage` into the exact bytes of an RFC 5322 message, ready for SMTP `DATA` (before dot-stuffing).
///
/// The result has CRLF line endings and no line over 78 characters except where a single word is longer (an address or
/// URL; never over 998). With HTML it is `multipart/alternative` with the plain-text part first, so clients that show
/// the last part they understand show the HTML. Every header value is checked for line breaks first: a subject or
/// extra header can never add a header of its own.
///
///     let bytes = try MIMEEncoder.encode(message)
public enum MIMEEncoder {
    /// Headers the encoder writes itself, or that must never be written (`Bcc` would reveal recipients).
    static let reservedHeaders: Set<String> = [
        "date", "from", "to", "cc", "bcc", "reply-to", "subject", "message-id", "mime-version", "content-type",
        "content-transfer-encoding",
    ]

    /// The message as bytes. `boundary` is for tests that need fixed output; by default a fresh random one is used.
    ///
    /// Throws `MIMEError` naming the header or field at fault.
    public static func encode(_ message: EmailMessage, boundary: String? = nil) throws -> [UInt8] {
        guard !message.to.isEmpty else { throw MIMEError.noRecipients }
        if let reason = messageIDProblem(message.messageID) { throw MIMEError.invalidMessageID(message.messageID, reason: reason) }
        if let reason = EmailHeader.problem(in: message.subject) { throw MIMEError.unsafeHeader(name: "Subject", reason: reason) }

        var header: [String] = []
        header.append(field("Date") { $0.append(rfc5322Date(message.date)) })
        header.append(field("From") { $0.appendMailbox(message.from) })
        header.append(
            field("To") { writer in
                for (index, mailbox) in message.to.enumerated() {
                    writer.appendMailbox(mailbox, suffix: index < message.to.count - 1 ? "," : "")
                }
            })
        if let replyTo = message.replyTo { header.append(field("Reply-To") { $0.appendMailbox(replyTo) }) }
        header.append(field("Subject") { $0.appendText(message.subject, strict: true) })
        header.append(field("Message-ID") { $0.append("<" + message.messageID + ">") })
        header.append("MIME-Version: 1.0")
        for extra in message.extraHeaders {
            if let reason = EmailHeader.problem(inName: extra.name) { throw MIMEError.invalidHeaderName(extra.name, reason: reason) }
            if reservedHeaders.contains(extra.name.lowercased()) { throw MIMEError.reservedHeader(extra.name) }
            if let reason = EmailHeader.problem(in: extra.value) { throw MIMEError.unsafeHeader(name: extra.name, reason: reason) }
            let rendered = field(extra.name) { $0.appendText(extra.value, strict: false) }
            if longestLine(rendered) > 998 {
                throw MIMEError.unsafeHeader(name: extra.name, reason: "has a word longer than the 998 characters an email line may hold")
            }
            header.append(rendered)
        }

        let text = message.text.flatMap { $0.isEmpty ? nil : $0 } ?? message.html.map(HTMLToText.convert) ?? ""
        // With attachments, the bodies are the first part of a multipart/mixed; the two levels get boundaries that
        // differ in their last character, so neither is the start of the other.
        let files = try message.attachments.map(attachmentPart)
        let given = files.isEmpty ? boundary.map { ($0, $0) } : boundary.map { ($0 + "m", $0 + "a") }
        let bodyHeaders: String
        let body: String
        if let html = message.html {
            let parts = [part(text, type: "text/plain"), part(html, type: "text/html")].map { $0.headers + "\r\n\r\n" + $0.body }
            let boundary = try given.map { try checkedBoundary($0.1, against: parts) } ?? freshBoundary(against: parts)
            bodyHeaders = field("Content-Type") { writer in
                writer.append("multipart/alternative;")
                writer.append("boundary=\"\(boundary)\"")
            }
            body = parts.map { "--\(boundary)\r\n\($0)\r\n" }.joined() + "--\(boundary)--\r\n"
        } else {
            let single = part(text, type: "text/plain")
            bodyHeaders = single.headers
            body = single.body + "\r\n"
        }
        guard !files.isEmpty else {
            header.append(bodyHeaders)
            return Array((header.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
        }
        // Base64 cannot hold a fresh boundary (`=_` never occurs in it), so only the text parts need a look; a
        // boundary given by a test is checked against the files too.
        let texts = [bodyHeaders + "\r\n\r\n" + body] + files.map(\.headers)
        let mixed: String
        if let given {
            mixed = try checkedBoundary(given.0, against: texts + files.map { String(decoding: $0.body, as: UTF8.self) })
        } else {
            mixed = freshBoundary(against: texts)
        }
        header.append(
            field("Content-Type") { writer in
                writer.append("multipart/mixed;")
                writer.append("boundary=\"\(mixed)\"")
            })
        // The bodies' final line break becomes the one in front of the next boundary.
        let first = bodyHeaders + "\r\n\r\n" + String(decoding: Array(body.utf8.dropLast(2)), as: UTF8.self)
        var bytes = Array((header.joined(separator: "\r\n") + "\r\n\r\n--\(mixed)\r\n" + first).utf8)
        bytes.reserveCapacity(bytes.count + files.reduce(0) { $0 + $1.headers.utf8.count + $1.body.count + mixed.utf8.count + 12 })
        for file in files {
            bytes += Array("\r\n--\(mixed)\r\n\(file.headers)\r\n\r\n".utf8)
            bytes += file.body
        }
        bytes += Array("\r\n--\(mixed)--\r\n".utf8)
        return bytes
    }

    /// A random boundary. It starts with `=_`, which neither quoted-printable (`=` is always followed by a hex digit or
    /// a line break) nor base64 (`=` only as final padding) can produce, so it cannot occur inside an encoded part.
    ///
    /// The 24 characters come from three random numbers, eight from each (each draw is a system call: one per
    /// character was a sixth of encoding an email).
    public static func makeBoundary() -> String {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        var random = SystemRandomNumberGenerator()
        var boundary = Array("=_herald_".utf8)
        for _ in 0..<3 {
            // Eight base-62 digits of one 64-bit number (62⁸ < 2⁶⁴, so each is as good as uniform).
            var value = random.next()
            for _ in 0..<8 {
                boundary.append(alphabet[Int(value % UInt64(alphabet.count))])
                value /= UInt64(alphabet.count)
            }
        }
        return String(decoding: boundary, as: UTF8.self)
    }

    /// `date` as RFC 5322 writes it, in UTC: `Sat, 21 Nov 2026 14:30:00 +0000`. Built by hand rather than with a
    /// formatter so no locale or time zone setting can change it.
    public static func rfc5322Date(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        let seconds = interval.isFinite ? Int64(max(-1e15, min(1e15, interval)).rounded(.down)) : 0
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let civil = CivilDate(daysSince1970: days)
        let (year, month, day) = (civil.year, civil.month, civil.day)
        // 1970-01-01 was a Thursday.
        let weekday = Int(((days % 7) + 7 + 4) % 7)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[weekday]), \(twoDigits(day)) \(months[Int(month) - 1]) \(year) "
            + "\(twoDigits(secondOfDay / 3600)):\(twoDigits(secondOfDay % 3600 / 60)):\(twoDigits(secondOfDay % 60)) +0000"
    }

    /// Why `id` cannot be a Message-ID (RFC 5322 `dot-atom-text "@" dot-atom-text`, without the angle brackets), or nil.
    static func messageIDProblem(_ id: String) -> String? {
        if id.utf8.count > 900 { return "is longer than 900 characters" }
        let sides = id.split(separator: "@", omittingEmptySubsequences: false)
        guard sides.count == 2 else { return "must be one @ between two parts, without angle brackets" }
        for side in sides {
            let atoms = side.split(separator: ".", omittingEmptySubsequences: false)
            if atoms.contains(where: { $0.isEmpty || !$0.unicodeScalars.allSatisfy(EmailAddress.isAtext) }) {
                return "must be letters, digits, dots and the symbols allowed in an address, around one @"
            }
        }
        return nil
    }

    /// The length in bytes of the longest CRLF-separated line of `field` (scanning bytes: splitting the string on
    /// `"\r\n"` compares characters, and took a tenth of encoding an email's headers).
    static func longestLine(_ field: String) -> Int {
        var longest = 0
        var length = 0
        var previous: UInt8 = 0
        for byte in field.utf8 {
            if previous == UInt8(ascii: "\r"), byte == UInt8(ascii: "\n") {
                longest = max(longest, length - 1)
                length = 0
            } else {
                length += 1
            }
            previous = byte
        }
        return max(longest, length)
    }

    private static func field(_ name: String, _ build: (inout HeaderFieldWriter) -> Void) -> String {
        var writer = HeaderFieldWriter(name: name)
        build(&writer)
        return writer.field
    }

    /// A body part's two headers and its encoded content (without a final line break: the one before the next
    /// boundary belongs to the boundary).
    private static func part(_ content: String, type: String) -> (headers: String, body: String) {
        let encoding = ContentTransferEncoding.preferred(for: content)
        return ("Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: \(encoding.rawValue)", encoding.encode(content))
    }

    private static func freshBoundary(against parts: [String]) -> String {
        while true {
            let boundary = makeBoundary()
            if !parts.contains(where: { occurs(boundary, in: $0) }) { return boundary }
        }
    }

    private static func checkedBoundary(_ boundary: String, against parts: [String]) throws -> String {
        let allowed = "'()+_,-./:=? ".unicodeScalars
        let valid =
            (1...70).contains(boundary.utf8.count) && !boundary.hasSuffix(" ")
            && boundary.unicodeScalars.allSatisfy { EmailAddress.isASCIIAlphanumeric($0) || allowed.contains($0) }
        if !valid { throw MIMEError.invalidBoundary(boundary, reason: "must be 1 to 70 letters, digits or '()+_,-./:=? not ending in a space") }
        if parts.contains(where: { occurs(boundary, in: $0) }) { throw MIMEError.invalidBoundary(boundary, reason: "occurs in a body part") }
        return boundary
    }

    /// Whether `needle` occurs in `text`, comparing UTF-8 bytes in place (Foundation's string search is far slower,
    /// and copying each body part into an array was a tenth of composing an email).
    static func occurs(_ needle: String, in text: String) -> Bool {
        var needle = needle
        var text = text
        return needle.withUTF8 { needle in
            text.withUTF8 { bytes in
                guard let first = needle.first else { return true }
                guard bytes.count >= needle.count else { return false }
                var index = 0
                while index <= bytes.count - needle.count {
                    if bytes[index] == first, bytes[index..<index + needle.count].elementsEqual(needle) { return true }
                    index += 1
                }
                return false
            }
        }
    }
}
