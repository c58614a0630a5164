import Foundation
import Testing

@testable import Herald

/// Reading bounce and complaint reports: real-looking messages from Postfix, qmail, Exim, Exchange and a
/// feedback loop, built from lines here (the test target has no resources), then garbage that must never trap.
@Suite("Bounce reports")
struct BounceReportTests {
    static let verp = "bounces+12.0123456789abcdef01234567@bounce.herald.test"

    static func message(_ lines: [String], separator: String = "\r\n") -> [UInt8] {
        Array(lines.joined(separator: separator).utf8)
    }

    static func base64Lines(_ lines: [String]) -> [String] {
        let encoded = Data(lines.joined(separator: "\r\n").utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn])
        return encoded.components(separatedBy: "\r")
    }

    static let returnedHeaders = [
        "Return-Path: <\(verp)>", "Received: from herald.example (herald.example [198.51.100.4])",
        "\tby mx.example.net (Postfix) with ESMTPS id 3F2A1C0123", "\tfor <Nobody@Example.org>; Tue,  3 Feb 2026 10:15:01 +0000 (UTC)",
        "From: Alerts <alerts@herald.example>", "To: Nobody@Example.org", "Subject: Your weekly digest",
        "Message-ID: <msg_12.1770113700@herald.example>", "X-Herald-Message: msg_12", "X-Herald-Event: evt_99",
    ]

    static let postfixHard = message(
        [
            "Return-Path: <>", "Received: by mx.example.net (Postfix) id 3F2A1C0123; Tue,  3 Feb 2026 10:15:02 +0000 (UTC)",
            "Date: Tue,  3 Feb 2026 10:15:02 +0000 (UTC)", "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)",
            "Subject: Undelivered Mail Returned to Sender", "To: \(verp)", "Auto-Submitted: auto-replied", "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;", "\tboundary=\"3F2A1C0123.1770113702/mx.example.net\"",
            "Content-Transfer-Encoding: 8bit", "Message-Id: <20260203101502.3F2A1C0123@mx.example.net>", "",
            "This is a MIME-encapsulated message.", "",
            "--3F2A1C0123.1770113702/mx.example.net", "Content-Description: Notification", "Content-Type: text/plain; charset=us-ascii", "",
            "This is the mail system at host mx.example.net.", "",
            "I'm sorry to have to inform you that your message could not",
            "be delivered to one or more recipients. It's attached below.", "",
            "                   The mail system", "",
            "<Nobody@Example.org>: host mx1.example.org[192.0.2.25] said: 550 5.1.1",
            "    <nobody@example.org>: Recipient address rejected: User unknown in virtual",
            "    mailbox table (in reply to RCPT TO command)", "",
            "--3F2A1C0123.1770113702/mx.example.net", "Content-Description: Delivery report", "Content-Type: message/delivery-status", "",
            "Reporting-MTA: dns; mx.example.net", "X-Postfix-Queue-ID: 3F2A1C0123", "X-Postfix-Sender: rfc822; \(verp)",
            "Arrival-Date: Tue,  3 Feb 2026 10:15:01 +0000 (UTC)", "",
            "Final-Recipient: rfc822; Nobody@Example.org", "Original-Recipient: rfc822;Nobody@Example.org", "Action: failed", "Status: 5.1.1",
            "Remote-MTA: dns; mx1.example.org", "Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address",
            "    rejected: User unknown in virtual mailbox table", "",
            "--3F2A1C0123.1770113702/mx.example.net", "Content-Description: Undelivered Message Headers",
            "Content-Type: text/rfc822-headers", "Content-Transfer-Encoding: 8bit", "",
        ] + returnedHeaders + ["", "--3F2A1C0123.1770113702/mx.example.net--", ""])

    @Test("a Postfix RFC 3464 report is a hard bounce with the recipient, 5.1.1, the diagnostic and the message ID")
    func postfixHardBounce() {
        let report = BounceReport.parse(Self.postfixHard)
        #expect(
            report
                == BounceReport(
                    kind: .hardBounce, recipients: ["nobody@example.org"], status: "5.1.1",
                    diagnostic: "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table",
                    heraldMessageID: "msg_12"))
    }

    @Test("a delayed report for a full mailbox (4.2.2) is a soft bounce")
    func delayedMailboxFull() {
        let boundary = "8D3A0C01F2.1770200000/mx.example.com"
        let report = BounceReport.parse(
            Self.message(
                [
                    "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)", "Subject: Delayed Mail (still being retried)", "To: \(Self.verp)",
                    "MIME-Version: 1.0", "Content-Type: multipart/report; report-type=delivery-status; boundary=\(boundary)", "",
                    "--\(boundary)", "Content-Type: text/plain; charset=us-ascii", "",
                    "This is the mail system at host mx.example.com.", "", "####################################################################",
                    "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #",
                    "####################################################################", "",
                    "<full@example.com>: host mx.example.com[203.0.113.9] said: 452 4.2.2 Mailbox full", "",
                    "--\(boundary)", "Content-Type: message/delivery-status", "",
                    "Reporting-MTA: dns; mx.example.com", "Arrival-Date: Wed,  4 Feb 2026 08:00:00 +0000 (UTC)", "",
                    "Final-Recipient: rfc822; full@example.com", "Action: delayed", "Status: 4.2.2",
                    "Diagnostic-Code: smtp; 452 4.2.2 Mailbox full", "Will-Retry-Until: Wed, 11 Feb 2026 08:00:00 +0000 (UTC)", "",
                    "--\(boundary)", "Content-Type: message/rfc822", "",
                    "From: alerts@herald.example", "To: full@example.com", "X-Herald-Message: msg_77", "Subject: hi", "", "Hello.", "",
                    "--\(boundary)--",
                ]))
        #expect(report.kind == .softBounce)
        #expect(report.recipients == ["full@example.com"])
        #expect(report.status == "4.2.2")
        #expect(report.diagnostic == "452 4.2.2 Mailbox full")
        #expect(report.heraldMessageID == "msg_77")
    }

    @Test(
        "each DSN Action and status class gives its kind",
        arguments: [
            ("failed", "5.7.1", BounceReport.Kind.hardBounce), ("failed", "4.4.7", .softBounce), ("failed", "", .hardBounce),
            ("delayed", "4.4.1", .softBounce), ("delivered", "2.0.0", .notABounce), ("relayed", "2.0.0", .notABounce),
            ("expanded", "2.0.0", .notABounce), ("", "5.1.1", .hardBounce), ("FAILED (permanent)", "5.2.2", .hardBounce),
        ])
    func actions(action: String, status: String, kind: BounceReport.Kind) {
        let report = BounceReport.parse(
            Self.message([
                "Content-Type: multipart/report; report-type=delivery-status; boundary=b", "", "--b", "Content-Type: message/delivery-status", "",
                "Reporting-MTA: dns; mx.example", "", "Final-Recipient: rfc822; a@example.org",
                action.isEmpty ? "X-Nothing: here" : "Action: \(action)", status.isEmpty ? "X-Status: none" : "Status: \(status)", "", "--b--",
            ]))
        #expect(report.kind == kind)
        #expect(report.recipients == ["a@example.org"])
    }

    @Test("several recipients: the permanent failures decide, the delayed one is left out")
    func mixedRecipients() {
        let report = BounceReport.parse(
            Self.message([
                "Content-Type: multipart/report; report-type=delivery-status; boundary=\"x\"", "", "--x", "Content-Type: message/delivery-status",
                "", "Reporting-MTA: dns; mx.example", "", "Final-Recipient: rfc822; late@example.org", "Action: delayed", "Status: 4.4.1", "",
                "Final-Recipient: rfc822; gone@example.org", "Action: failed", "Status: 5.1.1",
                // No empty line between two recipients, as some generators write it.
                "Final-Recipient: rfc822; <Also.Gone@Example.org>", "Action: failed", "Status: 5.1.1 (bad destination mailbox address)", "",
                "--x--",
            ]))
        #expect(report.kind == .hardBounce)
        #expect(report.recipients == ["gone@example.org", "also.gone@example.org"])
        #expect(report.status == "5.1.1")
    }

    @Test("an ARF abuse report is a complaint with the complainer, the VERP sender and X-Herald-Message")
    func arfComplaint() {
        let boundary = "----=_Part_1234_5678.1770113702"
        let report = BounceReport.parse(
            Self.message([
                "From: Mail AntiSpam Feedback <feedback@arf.mail.example>", "To: fbl@herald.example", "Subject: FW: Your weekly digest",
                "MIME-Version: 1.0", "Content-Type: multipart/report; report-type=feedback-report;", "  boundary=\"\(boundary)\"", "",
                "--\(boundary)", "Content-Type: text/plain; charset=\"US-ASCII\"", "Content-Transfer-Encoding: 7bit", "",
                "This is an email abuse report for an email message received from IP 198.51.100.4 on Tue, 03 Feb 2026 10:15:01 +0000.", "",
                "--\(boundary)", "Content-Type: message/feedback-report", "",
                "Feedback-Type: abuse", "User-Agent: SomeGenerator/1.0", "Version: 1", "Original-Mail-From: <\(Self.verp)>",
                "Original-Rcpt-To: <Complainer@Mail.example>", "Received-Date: Tue, 03 Feb 2026 10:15:01 +0000", "Source-IP: 198.51.100.4",
                "Reported-Domain: herald.example", "",
                "--\(boundary)", "Content-Type: text/rfc822-headers", "",
                "Return-Path: <\(Self.verp)>", "From: Alerts <alerts@herald.example>", "To: complainer@mail.example",
                "Subject: Your weekly digest", "X-Herald-Message: msg_4711", "", "--\(boundary)--",
            ]))
        #expect(
            report
                == BounceReport(
                    kind: .complaint, recipients: ["complainer@mail.example"], heraldMessageID: "msg_4711", feedbackType: "abuse",
                    originalMailFrom: Self.verp))
    }

    @Test("an ARF report without Original-Rcpt-To takes the returned message's To; not-spam is no action")
    func arfFallbacks() {
        func arf(_ type: String, rcpt: [String]) -> BounceReport {
            BounceReport.parse(
                Self.message(
                    [
                        "Content-Type: multipart/report; report-type=feedback-report; boundary=B", "", "--B", "Content-Type: text/plain", "", "report",
                        "--B", "Content-Type: message/feedback-report", "", "Feedback-Type: \(type)", "Version: 1",
                    ] + rcpt + [
                        "", "--B", "Content-Type: message/rfc822", "", "To: \"Jane\" <Jane@Example.org>, bob@example.org", "X-Herald-Message: msg_9",
                        "", "body", "--B--",
                    ]))
        }
        let redacted = arf("fraud", rcpt: [])
        #expect(redacted.kind == .complaint && redacted.feedbackType == "fraud")
        #expect(redacted.recipients == ["jane@example.org", "bob@example.org"] && redacted.heraldMessageID == "msg_9")
        #expect(arf("not-spam", rcpt: ["Original-Rcpt-To: a@example.org"]).kind == .notABounce)
    }

    @Test("a qmail plain-text bounce: the <address>: lines, #5.1.1, the original's X-Herald-Message")
    func qmail() {
        let report = BounceReport.parse(
            Self.message([
                "Return-Path: <>", "Date: 3 Feb 2026 10:15:02 -0000", "From: MAILER-DAEMON@mail.example.net", "To: \(Self.verp)",
                "Subject: failure notice", "",
                "Hi. This is the qmail-send program at mail.example.net.",
                "I'm afraid I wasn't able to deliver your message to the following addresses.",
                "This is a permanent error; I've given up. Sorry it didn't work out.", "",
                "<gone@example.net>:", "Sorry, no mailbox here by that name. (#5.1.1)", "",
                "<Other@Remote.example>:", "192.0.2.10 does not like recipient.",
                "Remote host said: 550 5.1.1 <other@remote.example>: Recipient address rejected", "Giving up on 192.0.2.10.", "",
                "--- Below this line is a copy of the message.", "",
                "Return-Path: <\(Self.verp)>", "Received: (qmail 12345 invoked from network); 3 Feb 2026 10:15:01 -0000",
                "X-Herald-Message: msg_321", "Subject: Your code", "From: alerts@herald.example", "To: gone@example.net", "",
                "Your code is 550 123 (version 5.0.1).",
            ]))
        #expect(report.kind == .hardBounce)
        #expect(report.recipients == ["gone@example.net", "other@remote.example"])
        #expect(report.status == "5.1.1")
        #expect(report.diagnostic == "Sorry, no mailbox here by that name. (#5.1.1)")
        #expect(report.heraldMessageID == "msg_321")
    }

    static let eximLines = [
        "Return-path: <>", "Envelope-to: \(verp)",
        "Received: from Debian-exim by mail.example.com with local (Exim 4.96)", "\tid 1vXyZ-000123-AB", "\tfor \(verp);",
        "\tTue, 03 Feb 2026 10:15:02 +0000", "X-Failed-Recipients: missing@example.com", "Auto-Submitted: auto-replied",
        "From: Mail Delivery System <Mailer-Daemon@mail.example.com>", "To: \(verp)", "Content-Type: text/plain; charset=us-ascii",
        "Subject: Mail delivery failed: returning message to sender", "Message-Id: <E1vXyZ-000123-AB@mail.example.com>", "",
        "This message was created automatically by mail delivery software.", "",
        "A message that you sent could not be delivered to one or more of its",
        "recipients. This is a permanent error. The following address(es) failed:", "",
        "  missing@example.com", "    host mx.example.com [203.0.113.5]",
        "    SMTP error from remote mail server after RCPT TO:<missing@example.com>:",
        "    550-5.1.1 The email account that you tried to reach does not exist. Please try",
        "    550 5.1.1 double-checking the recipient's email address for typos.", "",
        "------ This is a copy of the message, including all the headers. ------", "",
        "Return-path: <\(verp)>", "X-Herald-Message: msg_555", "Subject: Reset your password", "", "Click here.",
    ]

    @Test("an Exim plain-text bounce (CRLF or bare LF): X-Failed-Recipients, 550-5.1.1, the copied headers")
    func exim() {
        for separator in ["\r\n", "\n"] {
            let report = BounceReport.parse(Self.message(Self.eximLines, separator: separator))
            #expect(report.kind == .hardBounce)
            #expect(report.recipients == ["missing@example.com"])
            #expect(report.status == "5.1.1")
            #expect(report.diagnostic == "550-5.1.1 The email account that you tried to reach does not exist. Please try")
            #expect(report.heraldMessageID == "msg_555")
        }
        // Without the header, the indented address line names the recipient.
        let withoutHeader = Self.eximLines.filter { !$0.hasPrefix("X-Failed-Recipients") }
        #expect(BounceReport.parse(Self.message(withoutHeader)).recipients == ["missing@example.com"])
    }

    @Test("an Exim delay warning with a 4xx reply is a soft bounce")
    func eximDelay() {
        let report = BounceReport.parse(
            Self.message([
                "From: Mail Delivery System <Mailer-Daemon@mail.example.com>", "Subject: Warning: message 1vXyZ-000123-AB delayed 24 hours",
                "", "This message was created automatically by mail delivery software.",
                "A message that you sent has not yet been delivered to one or more of its", "recipients after more than 24 hours on the queue.",
                "", "  slow@example.com", "    Delay reason: SMTP error from remote mail server after RCPT TO:<slow@example.com>:",
                "    451 Greylisted, try again later", "", "No action is required on your part. Delivery attempts will continue.",
            ]))
        #expect(report.kind == .softBounce && report.status == nil && report.recipients == ["slow@example.com"])
        #expect(report.diagnostic == "451 Greylisted, try again later")
    }

    @Test("a base64 delivery-status part and a quoted-printable text part (Exchange style) are decoded")
    func base64DeliveryStatus() {
        let status = [
            "Reporting-MTA: dns;EXCH01.corp.example", "Received-From-MTA: dns;mx.herald.example", "Arrival-Date: Tue, 3 Feb 2026 10:15:01 +0000",
            "", "Original-Recipient: rfc822;Someone@Corp.example", "Final-Recipient: rfc822;someone.else@corp.example", "Action: failed",
            "Status: 5.1.10", "Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup", "",
        ]
        let report = BounceReport.parse(
            Self.message(
                [
                    "From: postmaster@corp.example", "To: \(Self.verp)", "Subject: Undeliverable: Your weekly digest", "MIME-Version: 1.0",
                    "Content-Type: multipart/mixed; boundary=\"outer\"", "", "--outer",
                    "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"inner_b7a\"", "", "--inner_b7a",
                    "Content-Type: text/plain; charset=\"utf-8\"", "Content-Transfer-Encoding: quoted-printable", "",
                    "Delivery has failed to these recipients or groups:=0D=0A=0D=0ASomeone@Corp.example=", "", "--inner_b7a",
                    "Content-Type: message/delivery-status", "Content-Transfer-Encoding: base64", "",
                ] + Self.base64Lines(status) + [
                    "", "--inner_b7a", "Content-Type: message/rfc822", "Content-Transfer-Encoding: base64", "",
                ] + Self.base64Lines(["X-Herald-Message: msg_31337", "Subject: digest", "", "body"]) + ["", "--inner_b7a--", "", "--outer--"]))
        #expect(report.kind == .hardBounce)
        #expect(report.recipients == ["someone@corp.example"])
        #expect(report.status == "5.1.10")
        #expect(report.diagnostic == "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup")
        #expect(report.heraldMessageID == "msg_31337")
    }

    @Test("an auto-reply is not a bounce, nor is a person's reply")
    func autoReply() {
        let outOfOffice = Self.message([
            "From: Jane Doe <jane@example.org>", "To: \(Self.verp)", "Subject: Automatic reply: Your weekly digest",
            "Auto-Submitted: auto-replied", "X-Autoreply: yes", "Content-Type: text/plain; charset=utf-8", "",
            "I'm out of the office until 12 February and your message could not be read before then.",
            "For urgent matters call +1 555 0100 (reference 550 5.1.1 is our room number).",
        ])
        #expect(BounceReport.parse(outOfOffice) == BounceReport(kind: .notABounce))
        let personal = Self.message(["From: bob@example.org", "Subject: Re: Your weekly digest", "", "Thanks, got it. Status 5.1.1 looks fine."])
        #expect(BounceReport.parse(personal).kind == .notABounce)
        #expect(BounceReport.parse(Self.message(["Subject: hello", "", "<a@b.example>:", "550 5.1.1 nope"])).kind == .notABounce)
    }

    @Test("garbage, truncated reports, deep nesting and 50 MB never trap and give a value quickly")
    func garbage() {
        var generator = InboundFuzzGenerator(seed: 0xB0B)
        let alphabet = Array("Content-Type: multipart/report; boundary=\"b\"\r\n--b\r\n:=?;<>@.5\r\n\t base64 quoted-printable=\r\n".utf8)
        for round in 0..<400 {
            let length = Int.random(in: 0...3000, using: &generator)
            let bytes: [UInt8] =
                round % 2 == 0
                ? (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                : (0..<length).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            _ = BounceReport.parse(bytes)
        }
        // Every prefix of a real report.
        for end in stride(from: 0, to: Self.postfixHard.count, by: 7) { _ = BounceReport.parse(Array(Self.postfixHard[..<end])) }
        // 300 nested multiparts, each opened and never closed.
        var nested: [String] = []
        for level in 0..<300 { nested += ["Content-Type: multipart/mixed; boundary=\"l\(level)\"", "", "--l\(level)"] }
        #expect(BounceReport.parse(Self.message(nested + ["Content-Type: message/delivery-status", "", "Final-Recipient: rfc822; a@b.example"])).kind == .notABounce)
        // Thousands of empty parts.
        #expect(BounceReport.parse(Self.message(["Content-Type: multipart/mixed; boundary=b", ""] + Array(repeating: "--b", count: 20000))).kind == .notABounce)
        // 50 MB: a real report followed by junk, and 50 MB of one long header line.
        let start = ContinuousClock.now
        let huge = Self.postfixHard + [UInt8](repeating: UInt8(ascii: "x"), count: 50 << 20)
        #expect(BounceReport.parse(huge).kind == .hardBounce)
        _ = BounceReport.parse(Array("Subject: ".utf8) + [UInt8](repeating: UInt8(ascii: "y"), count: 50 << 20))
        _ = BounceReport.parse([UInt8](repeating: 0x0A, count: 50 << 20))
        #expect(ContinuousClock.now - start < .seconds(20))
        // Odd encodings.
        let odd = Self.message([
            "Content-Type: message/delivery-status", "Content-Transfer-Encoding: base64", "", "====", "!!!!", "QUJD=", "",
        ])
        #expect(BounceReport.parse(odd).kind == .notABounce)
        #expect(InboundMIMEEntity.decodeQuotedPrintable(Array("a=4=\r\nb=ZZ=4".utf8)[...]) == Array("a=4b=ZZ=4".utf8))
        #expect(InboundMIMEEntity.decodeBase64(Array("aGVs\r\nbG8=".utf8)[...]) == Array("hello".utf8))
    }

    @Test("MIME details: folded headers, quoted and unquoted boundaries, comments in Content-Type")
    func mimeDetails() {
        let type = InboundMIMEEntity.parseContentType("Multipart/Report (a comment); report-type=\"delivery-status\"; BOUNDARY=\"a\\\"b; c\"")
        #expect(type == .init(type: "multipart", subtype: "report", parameters: ["report-type": "delivery-status", "boundary": "a\"b; c"]))
        #expect(InboundMIMEEntity.parseContentType("text") == nil)
        let entity = InboundMIMEEntity.parse(Array("Subject: one\r\n two\r\n\tthree\r\nX: y\r\n\r\nbody".utf8)[...])
        #expect(entity.field("subject") == "one two three" && entity.field("X") == "y" && Array(entity.body) == Array("body".utf8))
        #expect(BounceReport.address("rfc822; <Jane@Example.ORG>") == "jane@example.org")
        #expect(BounceReport.address("no address here") == nil)
        #expect(BounceReport.enhancedStatus(in: "host 192.0.2.5 said 5.7.1 denied") == "5.7.1")
        #expect(BounceReport.enhancedStatus(in: "v5.1.2 and 1.5.1.1 and 5.1.1234") == nil)
    }
}
