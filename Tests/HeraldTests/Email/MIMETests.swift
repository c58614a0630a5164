import Foundation
import Herald
import Testing

@Suite("MIME")
struct MIMETests {
    /// Sat, 21 Nov 2026 14:30:00 UTC.
    static let date = Date(timeIntervalSince1970: 1_795_271_400)

    // MARK: Quoted-printable and base64

    @Test(arguments: [
        ("Hello, world", "Hello, world"),
        ("a=b", "a=3Db"),
        ("Votre café crème", "Votre caf=C3=A9 cr=C3=A8me"),
        ("Party 🎉 time", "Party =F0=9F=8E=89 time"),
        ("ends with space \nnext", "ends with space=20\r\nnext"),
        ("ends with tab\t", "ends with tab=09"),
        ("one\r\ntwo\rthree\nfour", "one\r\ntwo\r\nthree\r\nfour"),
        (".leading dot", "=2Eleading dot"),
        ("From the team", "=46rom the team"),
        ("", ""),
    ])
    func quotedPrintable(input: String, expected: String) {
        #expect(ContentTransferEncoding.quotedPrintable.encode(input) == expected)
    }

    @Test func quotedPrintableSoftBreaksAtSeventySixColumns() {
        let encoding = ContentTransferEncoding.quotedPrintable
        #expect(encoding.encode(String(repeating: "a", count: 76)) == String(repeating: "a", count: 76))
        #expect(encoding.encode(String(repeating: "a", count: 77)) == String(repeating: "a", count: 75) + "=\r\naa")
        // An escape is never cut: 12 × "=C3=A9" is 72 columns, the 13th would pass 75.
        let accents = encoding.encode(String(repeating: "é", count: 14))
        #expect(accents == String(repeating: "=C3=A9", count: 12) + "=\r\n=C3=A9=C3=A9")
    }

    @Test(arguments: [
        String(repeating: "Le café est servi à 14 h — n'oubliez pas le gâteau = bonheur 🎉. ", count: 12),
        String(repeating: "é", count: 200) + "\n" + String(repeating: "x ", count: 60) + "\n\nlast line   ",
        "=" + String(repeating: "=", count: 100),
    ])
    func quotedPrintableRoundTripsWithShortLines(text: String) throws {
        let encoded = ContentTransferEncoding.quotedPrintable.encode(text)
        for line in encoded.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"))
            #expect(!line.contains("\r") && !line.contains("\n"))
        }
        #expect(try Self.decodeQuotedPrintable(encoded) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    @Test func transferEncodingFollowsHowMuchNeedsEscaping() throws {
        #expect(ContentTransferEncoding.preferred(for: "Rendez-vous confirmé pour jeudi à 9 h.") == .quotedPrintable)
        #expect(ContentTransferEncoding.preferred(for: "予約が確定しました。木曜日の九時にお待ちしております。") == .base64)
        #expect(ContentTransferEncoding.preferred(for: "🎉🎉🎉 ok") == .base64)
        let text = String(repeating: "予約が確定しました。\n", count: 20)
        let encoded = ContentTransferEncoding.base64.encode(text)
        #expect(encoded.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        let decoded = try #require(Data(base64Encoded: encoded.replacingOccurrences(of: "\r\n", with: "")))
        #expect(String(decoding: decoded, as: UTF8.self) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    // MARK: Header encoding

    @Test(arguments: [
        "Rappel : votre rendez-vous de 14 h 30 à la cafétéria « Le Réfectoire » est confirmé — arrivez 10 min en avance ☕🎉",
        "予約が確定しました：木曜日の九時に、東京駅の八重洲中央口でお待ちしております。よろしくお願いいたします。",
        String(repeating: "👩‍👩‍👧‍👦", count: 12) + " family",
        "Ünïcödé at the start, then a long ASCII tail that goes on and on well past the seventy-eight column limit",
    ])
    func nonASCIISubjectIsEncodedInShortWordsThatDecodeBack(subject: String) throws {
        let rendered = try Self.render(Self.message(subject: subject))
        let field = try #require(Self.rawField("Subject", in: rendered))
        let lines = field.components(separatedBy: "\r\n")
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        let words = Self.unfold(field).dropFirst("Subject:".count).split(separator: " ").map(String.init)
        #expect(words.allSatisfy { $0.utf8.count <= 75 && $0.hasPrefix("=?UTF-8?") && $0.hasSuffix("?=") })
        // Each word holds whole characters, so it is valid UTF-8 on its own.
        let pieces = try words.map { try Self.decodeEncodedWord($0) }
        #expect(pieces.allSatisfy { String(validating: $0, as: UTF8.self) != nil })
        #expect(String(decoding: pieces.joined(), as: UTF8.self) == subject)
    }

    @Test func japaneseSubjectUsesBase64WordsAndFrenchUsesQ() throws {
        let japanese = try Self.render(Self.message(subject: "予約が確定しました"))
        #expect(Self.unfold(try #require(Self.rawField("Subject", in: japanese))).contains("=?UTF-8?B?"))
        let french = try Self.render(Self.message(subject: "Réservation confirmée"))
        #expect(try #require(Self.rawField("Subject", in: french)) == "Subject: =?UTF-8?Q?R=C3=A9servation_confirm=C3=A9e?=")
    }

    @Test func longASCIISubjectIsFoldedAtWhitespace() throws {
        let subject = "Your appointment with Dr. Martin at the North Clinic is confirmed for Thursday at 9:00, please arrive early"
        let field = try #require(Self.rawField("Subject", in: try Self.render(Self.message(subject: subject))))
        #expect(!field.contains("=?"))
        #expect(field.components(separatedBy: "\r\n").count == 2)
        #expect(field.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(Self.unfold(field) == "Subject: " + subject)
    }

    @Test(arguments: [
        "Looks like =?UTF-8?B?SGk=?= but is literal",
        "A word too long to fold: " + String(repeating: "x", count: 90),
    ])
    func asciiSubjectThatCannotBeSentAsIsIsEncoded(subject: String) throws {
        let field = try #require(Self.rawField("Subject", in: try Self.render(Self.message(subject: subject))))
        #expect(field.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        let words = Self.unfold(field).dropFirst("Subject:".count).split(separator: " ").map(String.init)
        #expect(String(decoding: try words.map { try Self.decodeEncodedWord($0) }.joined(), as: UTF8.self) == subject)
    }

    // MARK: Header injection

    @Test(arguments: ["Hello\r\nBcc: victim@evil.example", "Hello\nBcc: victim@evil.example", "Hello\rX: y", "a\u{2028}b"])
    func lineBreakInSubjectIsRefused(subject: String) {
        #expect(throws: MIMEError.unsafeHeader(name: "Subject", reason: "contains a line break, which is not allowed in an email header")) {
            try MIMEEncoder.encode(Self.message(subject: subject))
        }
    }

    @Test func lineBreakInExtraHeaderIsRefusedByName() throws {
        var message = Self.message()
        message.extraHeaders = [EmailHeader(name: "X-Herald-Event", value: "ev_1\r\nBcc: victim@evil.example")]
        #expect(throws: MIMEError.unsafeHeader(name: "X-Herald-Event", reason: "contains a line break, which is not allowed in an email header")) {
            try MIMEEncoder.encode(message)
        }
        let error = #expect(throws: MIMEError.self) { try MIMEEncoder.encode(message) }
        #expect(error?.description.contains("X-Herald-Event") == true)
    }

    @Test func badExtraHeaderNamesAreRefused() {
        for (name, expected) in [
            ("X Bad", MIMEError.invalidHeaderName("X Bad", reason: "must be printable ASCII without spaces or colons")),
            ("X-Evil:", MIMEError.invalidHeaderName("X-Evil:", reason: "must be printable ASCII without spaces or colons")),
            ("Bcc", MIMEError.reservedHeader("Bcc")), ("subject", MIMEError.reservedHeader("subject")),
        ] {
            var message = Self.message()
            message.extraHeaders = [EmailHeader(name: name, value: "x")]
            #expect(throws: expected) { try MIMEEncoder.encode(message) }
        }
    }

    @Test func headerProblemExplainsWhatIsWrong() {
        #expect(EmailHeader.problem(in: "Order #12 shipped\twith tab, é and 🎉") == nil)
        #expect(EmailHeader.problem(in: "a\nb") == "contains a line break, which is not allowed in an email header")
        #expect(EmailHeader.problem(in: "a\u{0}b") == "contains the control character U+0000, which is not allowed in an email header")
        #expect(EmailHeader.problem(inName: "List-Unsubscribe-Post") == nil)
    }

    @Test func lineBreakInDisplayNameIsRefused() {
        #expect(throws: MIMEError.self) { try EmailAddress("a@b.example", name: "Eve\r\nBcc: x@y.example") }
    }

    // MARK: Addresses

    @Test(arguments: ["a@b.co", "first.last+tag@sub.example.org", "ops@localhost", "x_y-z@a-b.example", "O'Brien@example.ie"])
    func acceptsAddress(address: String) throws {
        #expect(EmailAddress.problem(in: address) == nil)
        #expect(try EmailAddress(address).address == address)
    }

    @Test(arguments: [
        ("", "is empty"), ("no-at.example", "has no @"), ("a@b@c.example", "has more than one @"),
        ("@b.example", "has nothing before the @"), ("a@", "has nothing after the @"), ("a b@c.example", "contains a space"),
        ("a@b.example\r\nBcc: x@y.example", "contains a line break, which is not allowed in an email header"),
        ("a@example", "has a domain without a dot"), ("a..b@c.example", "has a misplaced dot before the @"),
        (".a@c.example", "has a misplaced dot before the @"), ("a@b..example", "has a misplaced dot in its domain"),
        ("a@-b.example", "has a domain label that starts or ends with a hyphen"),
        ("a@b_c.example", "has a domain with characters other than letters, digits, hyphens and dots"),
        ("<a@b.example>", "contains '<' before the @, which needs quoting and is not accepted"),
        ("josé@example.com", "contains non-ASCII characters, which would need SMTPUTF8; use the ASCII (punycode) form of the domain"),
    ])
    func refusesAddress(address: String, reason: String) {
        #expect(EmailAddress.problem(in: address) == reason)
        #expect(throws: MIMEError.invalidAddress(address, reason: reason)) { try EmailAddress(address) }
    }

    @Test func descriptionIsForPeople() throws {
        #expect(try EmailAddress("a@b.example", name: "José, \"J\"").description == "José, \"J\" <a@b.example>")
        #expect(try EmailAddress("a@b.example").description == "a@b.example")
    }

    @Test func domainIsLowercasedAndLocalPartKept() throws {
        let address = try EmailAddress("Jane.Doe@Clinic.EXAMPLE")
        #expect(address.domain == "clinic.example")
        #expect(address.localPart == "Jane.Doe")
        #expect(address.address == "Jane.Doe@Clinic.EXAMPLE")
    }

    @Test(arguments: [
        ("Herald Alerts", "Herald Alerts <a@b.example>"),
        ("Doe, Jane", "\"Doe, Jane\" <a@b.example>"),
        ("Dr. \"J\" Doe", "\"Dr. \\\"J\\\" Doe\" <a@b.example>"),
        ("José", "=?UTF-8?B?Sm9zw6k=?= <a@b.example>"),
        ("José Alvarez", "=?UTF-8?Q?Jos=C3=A9_Alvarez?= <a@b.example>"),
        ("  ", "a@b.example"),
    ])
    func rendersMailbox(name: String, expected: String) throws {
        #expect(try EmailAddress("a@b.example", name: name).headerValue == expected)
    }

    @Test(
        arguments: [
            ("jane@clinic.example", "jane@clinic.example", nil),
            ("Jane Doe <jane@clinic.example>", "jane@clinic.example", "Jane Doe"),
            ("\"Doe, \\\"JD\\\" Jane\" <jane@clinic.example>", "jane@clinic.example", "Doe, \"JD\" Jane"),
            ("  <jane@clinic.example>  ", "jane@clinic.example", nil),
        ] as [(String, String, String?)])
    func parsesMailbox(text: String, address: String, name: String?) throws {
        let parsed = try EmailAddress(parsing: text)
        #expect(parsed.address == address)
        #expect(parsed.name == name)
    }

    // MARK: Message structure

    @Test func rendersExactMultipartMessage() throws {
        var message = Self.message(subject: "Your code", html: "<p>Code: <b>123456</b></p>", text: "Code: 123456")
        message.replyTo = try EmailAddress("help@herald.example")
        message.extraHeaders = [
            EmailHeader(name: "List-Unsubscribe", value: "<https://herald.example/u/t0k3n>, <mailto:unsubscribe@herald.example>"),
            EmailHeader(name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click"),
        ]
        let expected = [
            "Date: Sat, 21 Nov 2026 14:30:00 +0000",
            "From: Herald Alerts <alerts@herald.example>",
            "To: jane@clinic.example",
            "Reply-To: help@herald.example",
            "Subject: Your code",
            "Message-ID: <msg_12.ev_abc@herald.example>",
            "MIME-Version: 1.0",
            "List-Unsubscribe: <https://herald.example/u/t0k3n>,",
            " <mailto:unsubscribe@herald.example>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Content-Type: multipart/alternative; boundary=\"=_test\"",
            "",
            "--=_test",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Code: 123456",
            "--=_test",
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "<p>Code: <b>123456</b></p>",
            "--=_test--",
            "",
        ].joined(separator: "\r\n")
        #expect(try Self.render(message, boundary: "=_test") == expected)
    }

    @Test func randomBoundaryDelimitsTwoPartsAndOccursNowhereElse() throws {
        let message = Self.message(html: "<p>=_herald_ is not a boundary, --=_ neither</p>", text: "Plain text")
        let first = try Self.render(message)
        let second = try Self.render(message)
        let boundary = try #require(Self.boundary(in: first))
        #expect(boundary.hasPrefix("=_herald_") && boundary.count == 33)
        #expect(boundary != Self.boundary(in: second))
        #expect(first.components(separatedBy: "\r\n--\(boundary)\r\n").count == 3)
        #expect(first.hasSuffix("\r\n--\(boundary)--\r\n"))
        #expect(first.components(separatedBy: boundary).count == 5)  // Content-Type, two delimiters, the close.
        let parts = first.components(separatedBy: "--\(boundary)").dropFirst().dropLast()
        #expect(parts.map { $0.contains("text/plain") } == [true, false])
        #expect(parts.map { $0.contains("text/html") } == [false, true])
    }

    @Test func randomBoundariesAreLettersAndDigitsThatVary() {
        let boundaries = (0..<300).map { _ in MIMEEncoder.makeBoundary() }
        #expect(Set(boundaries).count == boundaries.count)
        let alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for boundary in boundaries {
            #expect(boundary.hasPrefix("=_herald_") && boundary.count == 33)
            #expect(boundary.dropFirst(9).allSatisfy(alphabet.contains))
        }
        // Every position takes many values: none is fixed by how the random numbers are cut into characters.
        for position in 9..<33 {
            let values = Set(boundaries.map { Array($0)[position] })
            #expect(values.count > 40, "position \(position) took only \(values.count) values")
        }
    }

    @Test func extraHeaderWithAWordOverNineHundredNinetyEightCharactersIsRefused() throws {
        var message = Self.message()
        message.extraHeaders = [EmailHeader(name: "X-Long", value: "short " + String(repeating: "a", count: 990))]
        let accepted = try Self.render(message)
        #expect(accepted.contains(String(repeating: "a", count: 990)))
        message.extraHeaders = [EmailHeader(name: "X-Long", value: "short " + String(repeating: "a", count: 999))]
        #expect(throws: MIMEError.unsafeHeader(name: "X-Long", reason: "has a word longer than the 998 characters an email line may hold")) {
            try MIMEEncoder.encode(message)
        }
    }

    @Test func boundaryGivenByCallerMustNotOccurInParts() {
        let message = Self.message(html: "<p>the boundary is XYZ</p>", text: "x")
        #expect(throws: MIMEError.invalidBoundary("XYZ", reason: "occurs in a body part")) { try MIMEEncoder.encode(message, boundary: "XYZ") }
    }

    @Test func withoutHTMLTheMessageIsOneTextPart() throws {
        let rendered = try Self.render(Self.message(html: nil, text: "Just text = plain"))
        #expect(!rendered.contains("multipart"))
        let expectedEnd = [
            "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
            "Just text =3D plain", "",
        ]
        #expect(rendered.hasSuffix(expectedEnd.joined(separator: "\r\n")))
    }

    @Test(arguments: [nil, ""] as [String?])
    func missingTextIsDerivedFromHTML(text: String?) throws {
        let html = "<html><head><style>p{}</style></head><body><p>Hello&nbsp;Ana,</p><p><a href=\"https://x.example/r\">Reset</a></p></body></html>"
        let rendered = try Self.render(Self.message(html: html, text: text), boundary: "=_b")
        let plainPart = try #require(rendered.components(separatedBy: "--=_b\r\n").dropFirst().first)
        let body = try #require(plainPart.range(of: "\r\n\r\n")).upperBound
        #expect(try Self.decodeQuotedPrintable(String(plainPart[body...])) == "Hello Ana,\r\n\r\nReset (https://x.example/r)\r\n")
    }

    @Test func everyLineIsShortAndEndsInCRLF() throws {
        var message = Self.message(
            subject: "Facture n° 2026-0042 : paiement reçu, merci ! Votre reçu détaillé est disponible dans votre espace client",
            html: "<table><tr><td>" + String(repeating: "Montant payé : 1 250,00 € — référence FAC-2026-0042. ", count: 30) + "</td></tr></table>",
            text: nil)
        message.to = try (1...4).map { try EmailAddress("person\($0)@clinic.example", name: "Équipe n°\($0) de l'hôpital Saint-Éloi") }
        let bytes = try MIMEEncoder.encode(message)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(bytes.allSatisfy { $0 < 0x80 })
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        for line in text.components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78, "\(line)") }
    }

    @Test func dateIsRFC5322InUTC() {
        #expect(MIMEEncoder.rfc5322Date(Self.date) == "Sat, 21 Nov 2026 14:30:00 +0000")
        #expect(MIMEEncoder.rfc5322Date(Date(timeIntervalSince1970: 1_772_442_307)) == "Mon, 02 Mar 2026 09:05:07 +0000")
        // The arithmetic agrees with Foundation's Gregorian calendar across leap years, centuries and before 1970.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let formatter = DateFormatter()
        formatter.calendar = calendar
        formatter.timeZone = calendar.timeZone
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        var random = SystemRandomNumberGenerator()
        let samples = [-2_208_988_800.0, 0, 951_782_400, 4_107_542_399, 4_102_444_800]
            + (0..<2000).map { _ in Double(Int64.random(in: -2_000_000_000...8_000_000_000, using: &random)) }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(MIMEEncoder.rfc5322Date(date) == formatter.string(from: date), "\(seconds)")
        }
    }

    // MARK: Message-ID

    @Test func messageIDIsStableForAMessageAndDistinctAcrossMessages() {
        let id = EmailMessage.makeMessageID(messageKey: "msg_12", eventID: "ev_abc", domain: "Herald.Example")
        #expect(id == "msg_12.ev_abc@herald.example")
        #expect(EmailMessage.makeMessageID(messageKey: "msg_12", eventID: "ev_abc", domain: "herald.example") == id)
        #expect(EmailMessage.makeMessageID(messageKey: "msg_13", eventID: "ev_abc", domain: "herald.example") != id)
        #expect(EmailMessage.makeMessageID(messageKey: "msg_12", eventID: "ev_abd", domain: "herald.example") != id)
        #expect(
            EmailMessage.makeMessageID(messageKey: "a.b", eventID: "c", domain: "x.example")
                != EmailMessage.makeMessageID(messageKey: "a", eventID: "b.c", domain: "x.example"))
    }

    @Test func oddMessageIDInputsStillMakeAValidHeader() throws {
        var message = Self.message()
        message.messageID = EmailMessage.makeMessageID(messageKey: "key <with> spaces", eventID: "ev/ü", domain: ".bad..domain.")
        #expect(message.messageID == "key=20=3Cwith=3E=20spaces.ev=2F=C3=BC@bad.domain")
        #expect(try Self.render(message).contains("\r\nMessage-ID: <key=20=3Cwith=3E=20spaces.ev=2F=C3=BC@bad.domain>\r\n"))
    }

    @Test(arguments: ["<a@b.example>", "no-at", "a b@c.example", "a@b@c", "a.@b.example", "é@b.example"])
    func malformedMessageIDIsRefused(id: String) {
        var message = Self.message()
        message.messageID = id
        #expect(throws: MIMEError.self) { try MIMEEncoder.encode(message) }
    }

    // MARK: HTML to text

    @Test(arguments: [
        ("<p>Hello</p><p>World</p>", "Hello\n\nWorld"),
        ("Line one<br>Line two<br/>Line three<BR />", "Line one\nLine two\nLine three"),
        (
            "<html><head><title>T</title><style>p { color: red }</style></head><body><p>Body</p><script>alert('<p>x</p>')</script></body></html>",
            "Body"
        ),
        ("<ul><li>One</li><li>Two</li></ul>", "- One\n- Two"),
        ("<ol><li>First</li><li>Second</li></ol>", "1. First\n2. Second"),
        ("<ul><li>A<ul><li>A1</li></ul></li><li>B</li></ul>", "- A\n  - A1\n- B"),
        ("<a href=\"https://x.example/reset?a=1&amp;b=2\">Reset password</a>", "Reset password (https://x.example/reset?a=1&b=2)"),
        ("<a href='https://x.example'>https://x.example</a>", "https://x.example"),
        ("<a href=\"mailto:help@x.example\">help@x.example</a>", "help@x.example"),
        ("<a href=\"https://x.example/logo\"><img src=\"logo.png\" alt=\"Logo\"></a>", "https://x.example/logo"),
        ("<a href=\"#top\">Back to top</a>", "Back to top"),
        ("Caf&eacute; &amp; cr&Egrave;me &lt;3 &quot;ok&quot; &#39;s &#233; &#xE9; &hellip;&nbsp;x", "Café & crÈme <3 \"ok\" 's é é … x"),
        ("AT&T & friends &unknown; 5 < 6", "AT&T & friends &unknown; 5 < 6"),
        ("  lots   of \n\n whitespace\t here  ", "lots of whitespace here"),
        ("<div>a</div><div></div><div></div><p></p><p>b</p><br><br><br><br>c", "a\n\nb\n\nc"),
        ("<table><tr><td>Amount</td><td>$5</td></tr><tr><th>Due</th><td>today</td></tr></table>", "Amount $5\nDue today"),
        ("<h1>Title</h1>Text<h2>Sub</h2>", "Title\n\nText\n\nSub"),
        ("<div style=\"display: none; max-height:0\">Preview &zwnj;&nbsp;&zwnj;&nbsp;<div>inner</div></div><p>Visible</p>", "Visible"),
        ("<!-- comment --><p>Hi</p><!--[if mso]><p>Outlook only</p><![endif]--><!DOCTYPE html>", "Hi"),
        ("<pre>  keep\n    this</pre><p>then   this</p>", "  keep\n    this\n\nthen this"),
        ("<p>Unclosed <b>bold <i>and <span>more", "Unclosed bold and more"),
        ("", ""),
    ])
    func htmlToText(html: String, expected: String) {
        #expect(HTMLToText.convert(html) == expected)
    }

    // MARK: Interoperability

    static let pythonAvailable: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import email.policy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// Python's `email` package is an independent, strict reader: if it gets every field back exactly, so will mail clients.
    @Test(.enabled(if: pythonAvailable, "needs python3"))
    func pythonEmailPackageReadsTheMessageBack() throws {
        let subject = "Rappel : votre rendez-vous de 14 h 30 à la cafétéria « Le Réfectoire » — n'oubliez pas ☕🎉 (réf. 42)"
        let text =
            "Bonjour Jeanne,\n\nVotre rendez-vous est confirmé : jeudi à 14 h 30.\nMontant = 12,50 €   \n\n"
            + String(repeating: "Très long paragraphe ", count: 20) + "\n"
        let html = """
            <p>Bonjour Jeanne,</p>
            <p>Votre rendez-vous est <b>confirmé</b> : jeudi à 14 h 30.</p>
            <p style="color:#0b5cad">Montant = 12,50 €</p>
            """
        var message = EmailMessage(
            from: try EmailAddress("alerts@herald.example", name: "Herald — Alertes"),
            to: [try EmailAddress("jeanne@clinic.example", name: "Doe, Jeanne"), try EmailAddress("ops@clinic.example")],
            replyTo: try EmailAddress("help@herald.example", name: "Help Desk"), subject: subject, html: html, text: text,
            messageID: EmailMessage.makeMessageID(messageKey: "msg_12", eventID: "ev_abc", domain: "herald.example"), date: Self.date)
        message.extraHeaders = [
            EmailHeader(name: "List-Unsubscribe", value: "<https://herald.example/unsubscribe/" + String(repeating: "t0k3n", count: 8) + ">"),
            EmailHeader(name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click"),
            EmailHeader(name: "X-Herald-Event", value: "ev_abc"),
        ]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("herald-mime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let messageFile = directory.appendingPathComponent("message.eml")
        let expectedFile = directory.appendingPathComponent("expected.json")
        try Data(try MIMEEncoder.encode(message)).write(to: messageFile)
        let expected: [String: String] = [
            "subject": subject, "text": text, "html": html, "from_name": "Herald — Alertes", "to_name": "Doe, Jeanne",
            "message_id": "<msg_12.ev_abc@herald.example>", "list_unsubscribe": message.extraHeaders[0].value,
        ]
        try JSONEncoder().encode(expected).write(to: expectedFile)

        let script = """
            import email, email.policy, json, sys, datetime
            with open(sys.argv[1], 'rb') as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            with open(sys.argv[2], encoding='utf-8') as f:
                want = json.load(f)
            problems = []
            def check(label, got, expected):
                if got != expected:
                    problems.append(f'{label}: {got!r} != {expected!r}')
            check('subject', str(msg['subject']), want['subject'])
            check('from', [(a.display_name, a.addr_spec) for a in msg['from'].addresses], [(want['from_name'], 'alerts@herald.example')])
            check('to', [(a.display_name, a.addr_spec) for a in msg['to'].addresses],
                  [(want['to_name'], 'jeanne@clinic.example'), ('', 'ops@clinic.example')])
            check('reply-to', [(a.display_name, a.addr_spec) for a in msg['reply-to'].addresses], [('Help Desk', 'help@herald.example')])
            check('message-id', str(msg['message-id']), want['message_id'])
            check('date', msg['date'].datetime, datetime.datetime(2026, 11, 21, 14, 30, tzinfo=datetime.timezone.utc))
            check('list-unsubscribe', str(msg['list-unsubscribe']), want['list_unsubscribe'])
            check('x-herald-event', str(msg['x-herald-event']), 'ev_abc')
            check('type', msg.get_content_type(), 'multipart/alternative')
            parts = list(msg.iter_parts())
            check('part types', [p.get_content_type() for p in parts], ['text/plain', 'text/html'])
            check('text', parts[0].get_content(), want['text'])
            check('html', parts[1].get_content(), want['html'])
            defects = [repr(d) for m in [msg, *parts] for d in m.defects] + [repr(d) for k in msg.keys() for d in msg[k].defects]
            check('defects', defects, [])
            print('\\n'.join(problems))
            sys.exit(1 if problems else 0)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, messageFile.path, expectedFile.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let report = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")
    }

    // MARK: Helpers

    static func message(
        subject: String = "Hello", html: String? = "<p>Hello</p>", text: String? = "Hello"
    ) -> EmailMessage {
        EmailMessage(
            from: try! EmailAddress("alerts@herald.example", name: "Herald Alerts"), to: [try! EmailAddress("jane@clinic.example")],
            subject: subject, html: html, text: text, messageID: "msg_12.ev_abc@herald.example", date: date)
    }

    static func render(_ message: EmailMessage, boundary: String? = nil) throws -> String {
        String(decoding: try MIMEEncoder.encode(message, boundary: boundary), as: UTF8.self)
    }

    /// The header field `name` as written, folded lines and all.
    static func rawField(_ name: String, in rendered: String) -> String? {
        let header = rendered.components(separatedBy: "\r\n\r\n")[0]
        var field: [String]?
        for line in header.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                field?.append(line)
            } else if field != nil {
                break
            } else if line.lowercased().hasPrefix(name.lowercased() + ":") {
                field = [line]
            }
        }
        return field?.joined(separator: "\r\n")
    }

    static func unfold(_ field: String) -> String {
        field.replacingOccurrences(of: "\r\n", with: "")
    }

    static func boundary(in rendered: String) -> String? {
        guard let range = rendered.range(of: "boundary=\"") else { return nil }
        return rendered[range.upperBound...].prefix { $0 != "\"" }.description
    }

    struct DecodingError: Error {
        var detail: String
    }

    /// An independent RFC 2047 decoder for one `=?UTF-8?B|Q?…?=` word, returning its bytes.
    static func decodeEncodedWord(_ word: String) throws -> [UInt8] {
        let pieces = word.split(separator: "?", omittingEmptySubsequences: false)
        guard pieces.count == 5, pieces[0] == "=", pieces[1].uppercased() == "UTF-8", pieces[4] == "=" else {
            throw DecodingError(detail: "not an encoded-word: \(word)")
        }
        switch pieces[2].uppercased() {
        case "B":
            guard let data = Data(base64Encoded: String(pieces[3])) else { throw DecodingError(detail: "bad base64 in \(word)") }
            return Array(data)
        case "Q":
            return try decodeQBytes(String(pieces[3]).replacingOccurrences(of: "_", with: " "), softBreaks: false)
        default:
            throw DecodingError(detail: "unknown encoding in \(word)")
        }
    }

    static func decodeQuotedPrintable(_ text: String) throws -> String {
        String(decoding: try decodeQBytes(text, softBreaks: true), as: UTF8.self)
    }

    private static func decodeQBytes(_ text: String, softBreaks: Bool) throws -> [UInt8] {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "=") else {
                output.append(bytes[index])
                index += 1
                continue
            }
            if softBreaks, bytes[(index + 1)...].starts(with: Array("\r\n".utf8)) {
                index += 3
                continue
            }
            guard index + 2 < bytes.count, let value = UInt8(String(decoding: bytes[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) else {
                throw DecodingError(detail: "bad escape at \(index) in \(text)")
            }
            output.append(value)
            index += 3
        }
        return output
    }
}
