import Foundation

extension BounceReport {
    /// Most text of a plain bounce that is read: the explanation is at the top.
    static let maximumHeuristicText = 64 * 1024

    /// Reads a bounce that is not a standard report: qmail's "Hi. This is the qmail-send program", Exim's
    /// "This message was created automatically by mail delivery software", Postfix's or anyone's text
    /// naming a failed address and the remote server's reply.
    ///
    /// A message counts as a bounce only when it says so (a MAILER-DAEMON or postmaster sender, a bounce
    /// subject, a known bounce phrase, or Exim's `X-Failed-Recipients`); an auto-reply ("out of office")
    /// never does. The kind comes from the first 4.x.x/5.x.x status in the explanation, else its first
    /// 4xx/5xx reply code, else its wording; a bounce that says nothing clear is soft, since a hard
    /// bounce suppresses the address for good.
    static func heuristicReport(in root: InboundMIMEEntity) -> BounceReport {
        let subject = (root.field("Subject") ?? "").lowercased()
        let from = (root.field("From") ?? "").lowercased()
        let part = root.all(intoMessages: false).first { $0.children.isEmpty && $0.contentType.mediaType == "text/plain" }
        let text = part.map { String(decoding: $0.decodedBody.prefix(maximumHeuristicText), as: UTF8.self) } ?? ""
        let failedRecipients = root.fields(named: "X-Failed-Recipients").flatMap { $0.split(separator: ",") }.compactMap { address(String($0)) }
        let fromDaemon = ["mailer-daemon", "postmaster@", "mail delivery", "mail administrator"].contains { from.contains($0) }

        if isAutoReply(root, subject: subject), !fromDaemon, failedRecipients.isEmpty { return BounceReport(kind: .notABounce) }
        let lines = diagnosticLines(text)
        let diagnostic = lines.joined(separator: "\n").lowercased()
        let saysBounce =
            fromDaemon || !failedRecipients.isEmpty || bounceSubjects.contains { subject.contains($0) }
            || bouncePhrases.contains { diagnostic.contains($0) }
        guard saysBounce else { return BounceReport(kind: .notABounce) }

        var kind = Kind.softBounce
        var status: String?
        var reasonLine: Substring?
        if let found = lines.lazy.compactMap({ line in enhancedStatus(in: line, classes: ["4", "5"]).map { (line, $0) } }).first {
            (reasonLine, status) = (found.0, found.1)
            kind = found.1.hasPrefix("5") ? .hardBounce : .softBounce
        } else if let found = lines.lazy.compactMap({ line in replyCode(in: line).map { (line, $0) } }).first {
            reasonLine = found.0
            kind = found.1 >= 500 ? .hardBounce : .softBounce
        } else if permanentPhrases.contains(where: { diagnostic.contains($0) }) {
            kind = .hardBounce
        }
        if temporaryPhrases.contains(where: { diagnostic.contains($0) }), status == nil, reasonLine == nil { kind = .softBounce }

        let sender = address(from)
        var recipients = failedRecipients
        if recipients.isEmpty { recipients = lines.compactMap(addressLine) }
        if recipients.isEmpty { recipients = rcptToAddresses(in: lines) }
        if recipients.isEmpty, let reasonLine { recipients = bracketedAddresses(in: reasonLine) }
        recipients = recipients.filter { $0 != sender && !$0.hasPrefix("mailer-daemon@") && !$0.hasPrefix("postmaster@") }
        return BounceReport(kind: kind, recipients: unique(recipients), status: status, diagnostic: reasonLine.flatMap { cleanDiagnostic(String($0)) })
    }

    /// The explanation: the lines before the copy of the original message that most bounces append.
    static func diagnosticLines(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let lowered = line.lowercased()
            if copyMarkers.contains(where: { lowered.contains($0) }) || originalHeaderStarts.contains(where: { lowered.hasPrefix($0) }) { break }
            lines.append(line)
            if lines.count >= 2000 { break }
        }
        return lines
    }

    /// The first enhanced status code of one of `classes` in `line`.
    static func enhancedStatus(in line: Substring, classes: Set<Character>) -> String? {
        var rest = line
        while let status = enhancedStatus(in: rest) {
            if let first = status.first, classes.contains(first) { return status }
            guard let range = rest.range(of: status) else { return nil }
            rest = rest[range.upperBound...]
        }
        return nil
    }

    /// A basic reply code (`550`, `452-`) at the start of a word: `Remote host said: 550 …`, `said: 451 …`.
    static func replyCode(in line: Substring) -> Int? {
        let scalars = Array(line.unicodeScalars.prefix(4096))
        var index = 0
        while index + 3 < scalars.count {
            defer { index += 1 }
            let previous: Unicode.Scalar = index == 0 ? " " : scalars[index - 1]
            guard [" ", "\t", ":", "(", "\"", "#"].contains(previous), ["4", "5"].contains(scalars[index]),
                ("0"..."9").contains(scalars[index + 1]), ("0"..."9").contains(scalars[index + 2]), [" ", "-"].contains(scalars[index + 3])
            else { continue }
            let digits = scalars[index...(index + 2)].map { Int($0.value) - 0x30 }
            return digits[0] * 100 + digits[1] * 10 + digits[2]
        }
        return nil
    }

    /// The address of a line that names a failed recipient on its own: `<jane@example.org>:` (qmail),
    /// `  jane@example.org` (Exim), `<jane@example.org>: host … said: …` (Postfix).
    static func addressLine(_ line: Substring) -> String? {
        let trimmed = line.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
        if trimmed.hasPrefix("<"), let close = trimmed.firstIndex(of: ">") {
            let after = trimmed[trimmed.index(after: close)...]
            guard after.allSatisfy({ $0 == " " || $0 == "\t" }) || after.hasPrefix(":") else { return nil }
            return address(String(trimmed[...close]))
        }
        var bare = trimmed.prefix { $0 != " " && $0 != "\t" }
        guard trimmed[bare.endIndex...].allSatisfy({ $0 == " " || $0 == "\t" }) else { return nil }
        if bare.hasSuffix(":") { bare = bare.dropLast() }
        return address(String(bare))
    }

    /// Addresses in `RCPT TO:<…>`, as Exim quotes the command the remote server refused.
    static func rcptToAddresses(in lines: [Substring]) -> [String] {
        lines.flatMap { line -> [String] in
            guard let range = line.range(of: "rcpt to:", options: .caseInsensitive) else { return [] }
            return bracketedAddresses(in: line[range.upperBound...]).prefix(1).map { $0 }
        }
    }

    static func bracketedAddresses(in text: Substring) -> [String] {
        var found: [String] = []
        var rest = text
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">"), found.count < maximumRecipients {
            if let address = address(String(rest[open...close])) { found.append(address) }
            rest = rest[rest.index(after: close)...]
        }
        return found
    }

    static func isAutoReply(_ root: InboundMIMEEntity, subject: String) -> Bool {
        if ["X-Autoreply", "X-Autorespond", "X-Autoresponder"].contains(where: { root.field($0) != nil }) { return true }
        if root.field("Precedence")?.lowercased().contains("auto_reply") == true { return true }
        if root.field("Auto-Submitted")?.lowercased().hasPrefix("auto-replied") == true { return true }
        return autoReplySubjects.contains { subject.hasPrefix($0) }
    }

    static let bounceSubjects = [
        "undeliver", "undelivered mail", "returned mail", "returned to sender", "delivery status notification", "delivery failure",
        "delivery failed", "mail delivery failed", "failure notice", "delivery has failed", "could not be delivered", "non-delivery",
        "delivery notification", "warning: message", "delayed mail", "unzustellbar", "non remis",
    ]

    static let bouncePhrases = [
        "qmail-send program", "mail delivery software", "this is the mail system at host", "could not be delivered",
        "couldn't be delivered", "was not delivered", "delivery to the following recipient", "following address(es) failed",
        "following addresses had permanent", "has not yet been delivered", "undeliverable", "delivery has failed", "permanent error",
        "returned to sender", "message could not be sent",
    ]

    static let permanentPhrases = [
        "permanent error", "permanently", "user unknown", "unknown user", "no such user", "does not exist", "mailbox unavailable",
        "address rejected", "i've given up", "gave up",
    ]

    static let temporaryPhrases = [
        "temporary", "temporarily", "has not yet been delivered", "will continue to try", "will be retried", "delivery attempts will continue",
        "try again later", "delayed", "deferred",
    ]

    static let copyMarkers = [
        "below this line is a copy of the message", "this is a copy of the message", "this is a copy of your message",
        "original message follows", "original message ---", "the header of the original message", "message headers follow",
        "unsent message below", "------ this is a copy",
    ]

    /// Header fields that start the original message when a bounce quotes it without a marker.
    static let originalHeaderStarts = ["received:", "return-path:", "x-herald-message:", "message-id:", "dkim-signature:"]

    static let autoReplySubjects = [
        "auto:", "automatic reply", "autoreply", "auto-reply", "out of office", "out of the office", "abwesenheit", "réponse automatique",
        "vacation",
    ]
}
