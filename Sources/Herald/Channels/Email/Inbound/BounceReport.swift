import Foundation

/// What a message that came back to Herald's bounce address says: a hard or soft bounce, a complaint,
/// or nothing Herald needs to act on, with the recipients it is about.
///
/// Reports come in three shapes, tried in this order: a standard delivery status notification
/// (RFC 3464, `multipart/report; report-type=delivery-status`), a standard complaint (ARF, RFC 5965,
/// `report-type=feedback-report`), and the plain-text bounces older or simpler servers still send
/// (qmail, Exim, …), read by heuristics. Parsing is pure and total: any bytes, garbage or 50 MB, give a
/// report (`.notABounce` when nothing is recognised), never a trap.
///
///     let report = BounceReport.parse(mail.message)
///     if report.kind == .hardBounce { suppress(report.recipients) }
public struct BounceReport: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Delivery failed for good (5.x.x): the address should not be mailed again.
        case hardBounce
        /// Delivery failed for now or is delayed (4.x.x): worth noting, not worth suppressing yet.
        case softBounce
        /// The recipient marked the message as spam (or fraud, a virus …) through a feedback loop.
        case complaint
        /// An auto-reply, a success notice, or anything else that is no failure.
        case notABounce
    }

    public var kind: Kind
    /// The addresses the report is about, lowercased, without `rfc822;`: the Original-Recipient (the
    /// address Herald sent to) where given, else the Final-Recipient; a complaint's Original-Rcpt-To.
    public var recipients: [String]
    /// The enhanced status code (RFC 3463), such as `5.1.1`, when the report gives one.
    public var status: String?
    /// The receiving server's explanation (Diagnostic-Code, or the reply line of a plain bounce), cleaned
    /// of control characters and at most ``maximumDiagnosticLength`` characters.
    public var diagnostic: String?
    /// The `X-Herald-Message` header of the returned original message or its headers, if present.
    public var heraldMessageID: String?
    /// A complaint's Feedback-Type, lowercased (`abuse`, `fraud`, `virus`, `other`, `not-spam`).
    public var feedbackType: String?
    /// The original message's envelope sender as a complaint gives it (Original-Mail-From), lowercased:
    /// Herald's VERP return path, which names the message when the report came to a feedback-loop
    /// address instead of to it.
    public var originalMailFrom: String?

    public init(
        kind: Kind, recipients: [String] = [], status: String? = nil, diagnostic: String? = nil, heraldMessageID: String? = nil,
        feedbackType: String? = nil, originalMailFrom: String? = nil
    ) {
        self.kind = kind
        self.recipients = recipients
        self.status = status
        self.diagnostic = diagnostic
        self.heraldMessageID = heraldMessageID
        self.feedbackType = feedbackType
        self.originalMailFrom = originalMailFrom
    }

    /// Only this much of a message is read: reports are small, and what they return of the original
    /// (which may be large) comes after the part that matters.
    public static let maximumInspectedBytes = 4 << 20
    public static let maximumDiagnosticLength = 500
    /// Most recipients taken from one report.
    public static let maximumRecipients = 100

    /// Reads a report. Never traps; anything unrecognised is `.notABounce`.
    public static func parse(_ message: [UInt8]) -> BounceReport {
        let root = InboundMIMEEntity.parse(message.prefix(maximumInspectedBytes))
        var report = deliveryStatusReport(in: root) ?? feedbackReport(in: root) ?? heuristicReport(in: root)
        report.heraldMessageID = report.heraldMessageID ?? heraldMessageID(in: root)
        return report
    }

    // MARK: Shared helpers

    /// The `X-Herald-Message` of the returned original: from an enclosed message or headers part, or
    /// else from a line of a text part that quotes the original (as plain-text bounces do).
    static func heraldMessageID(in root: InboundMIMEEntity) -> String? {
        let entities = root.all()
        for entity in entities where entity.contentType.isReturnedMessage {
            let headers = entity.children.first ?? InboundMIMEEntity.parse(entity.decodedBody[...])
            if let value = headers.field("X-Herald-Message"), let id = messageID(value) { return id }
        }
        let prefix = Array("x-herald-message:".utf8)
        for entity in entities where entity.children.isEmpty && entity.contentType.type == "text" {
            let text = entity.decodedBody.prefix(1 << 20)
            var lineStart = text.startIndex
            while lineStart < text.endIndex {
                let lineEnd = InboundMIMEEntity.nextLineFeed(in: text, from: lineStart) ?? text.endIndex
                var line = text[lineStart..<lineEnd]
                while let first = line.first, first == 0x20 || first == 0x09 || first == UInt8(ascii: ">") { line = line.dropFirst() }
                if line.count > prefix.count, zip(line, prefix).allSatisfy({ lowercase($0.0) == $0.1 }),
                    let id = messageID(String(decoding: line.dropFirst(prefix.count), as: UTF8.self))
                {
                    return id
                }
                lineStart = lineEnd + 1
            }
        }
        return nil
    }

    /// A message ID as Herald writes them (`msg_123`): a short token of letters, digits and `_-.:@+`.
    static func messageID(_ value: String) -> String? {
        let token = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).first.map(String.init) ?? ""
        guard !token.isEmpty, token.count <= 128,
            token.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.:@+".unicodeScalars.contains($0)) })
        else { return nil }
        return token
    }

    /// An address from a report field: `rfc822; Jane@Example.org`, `<jane@example.org>` or bare, made
    /// lowercase without its type or brackets. Nil unless it looks like `local@domain`.
    static func address(_ value: String) -> String? {
        var text = Substring(value)
        if let semicolon = text.firstIndex(of: ";"), text[..<semicolon].count <= 20, !text[..<semicolon].contains("@") {
            text = text[text.index(after: semicolon)...]
        }
        text = text.drop(while: { $0 == " " || $0 == "\t" })
        if let open = text.firstIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
            text = text[text.index(after: open)..<close]
        }
        let address = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'")).lowercased()
        guard address.count <= 256, address.contains("@"), !address.hasPrefix("@"), !address.hasSuffix("@"),
            address.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) && $0 != "<" && $0 != ">" && $0 != "," })
        else { return nil }
        return address
    }

    /// The first enhanced status code (RFC 3463) in `text`: `[245].d{1,3}.d{1,3}`, not part of a longer
    /// number such as a version or an IP address.
    static func enhancedStatus(in text: Substring) -> String? {
        let scalars = Array(text.unicodeScalars.prefix(64 * 1024))
        var index = 0
        while index < scalars.count {
            defer { index += 1 }
            guard ["2", "4", "5"].contains(scalars[index]) else { continue }
            if index > 0, isCodeNeighbour(scalars[index - 1]) { continue }
            var cursor = index + 1
            var groups: [String] = [String(scalars[index])]
            while groups.count < 3, cursor < scalars.count, scalars[cursor] == "." {
                var digits = ""
                cursor += 1
                while cursor < scalars.count, ("0"..."9").contains(scalars[cursor]), digits.count < 4 {
                    digits.unicodeScalars.append(scalars[cursor])
                    cursor += 1
                }
                guard (1...3).contains(digits.count) else { break }
                groups.append(digits)
            }
            guard groups.count == 3 else { continue }
            if cursor < scalars.count, isCodeNeighbour(scalars[cursor]) { continue }
            return groups.joined(separator: ".")
        }
        return nil
    }

    /// A character that, next to a status code, shows it is part of something else (`1.5.1.1`, `v5.1.2`, `5.1.1a`).
    private static func isCodeNeighbour(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "." || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
    }

    /// Text without control characters, whitespace collapsed, at most ``maximumDiagnosticLength`` characters.
    static func cleanDiagnostic(_ text: String) -> String? {
        let cleaned = InboundMIMEEntity.collapse(
            Array(String(String.UnicodeScalarView(text.unicodeScalars.lazy.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 })).utf8))
        guard !cleaned.isEmpty else { return nil }
        return String(cleaned.prefix(maximumDiagnosticLength))
    }

    static func lowercase(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte + 0x20 : byte }

    /// `values` without repeats, in order, at most ``maximumRecipients``.
    static func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return Array(values.filter { seen.insert($0).inserted }.prefix(maximumRecipients))
    }
}
