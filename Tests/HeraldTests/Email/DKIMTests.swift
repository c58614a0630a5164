import Foundation
import Testing

@testable import Herald

/// DKIM signing: canonicalization against RFC 6376's own example, key parsing and its refusals, DNS records, and
/// signatures checked by dkimpy (scripts/dkim_verify.py), an independent verifier, the way a receiving server would.
@Suite("DKIM")
struct DKIMTests {
    // MARK: Canonicalization

    /// RFC 6376 §3.4.5's example, headers and body exactly.
    @Test func rfc6376Example() {
        #expect(DKIMCanonicalization.relaxedHeader(name: "A", value: " X") == "a:X")
        #expect(DKIMCanonicalization.relaxedHeader(name: "B ", value: " Y\t\r\n\tZ  ") == "b:Y Z")
        #expect(body(" C \r\nD \t E\r\n\r\n\r\n") == " C\r\nD E\r\n")
    }

    @Test(arguments: [
        ("", ""),
        ("\r\n", ""),
        ("\r\n\r\n\r\n", ""),
        (" \t\r\n\t\r\n", ""),
        ("abc", "abc\r\n"),
        ("abc  \t", "abc\r\n"),
        ("abc\r\n", "abc\r\n"),
        ("abc\r\n\r\n\r\n", "abc\r\n"),
        ("abc\r\n \r\n\t\r\n", "abc\r\n"),
        ("a \t b\t\r\n  c  d  \r\n", "a b\r\n c d\r\n"),
        ("\r\n\r\nabc\r\n", "\r\n\r\nabc\r\n"),
        ("é  ü\r\n", "é ü\r\n"),
    ])
    func relaxedBody(input: String, expected: String) {
        #expect(body(input) == expected)
    }

    @Test(arguments: [
        ("Subject", " This is\r\n a  long\r\n\tsubject \t", "subject:This is a long subject"),
        ("SubJect", " AbC\r\n\tdef  ", "subject:AbC def"),
        ("List-Unsubscribe", "\r\n <https://a.example/u>,\r\n <mailto:u@a.example>", "list-unsubscribe:<https://a.example/u>, <mailto:u@a.example>"),
        ("X-Empty", "", "x-empty:"),
        ("X-Empty", "  \t ", "x-empty:"),
        ("Subject", " =?UTF-8?B?w6k=?=", "subject:=?UTF-8?B?w6k=?="),
    ])
    func relaxedHeader(name: String, value: String, expected: String) {
        #expect(DKIMCanonicalization.relaxedHeader(name: name, value: value) == expected)
    }

    /// RFC 8463 Appendix A: its key (as a bare seed), message and DKIM-Signature. Ed25519 is deterministic, so the
    /// signature over our canonical headers must be the RFC's byte for byte: this pins down the SHA-256 prehash of
    /// §3 and the header canonicalization together.
    @Test func rfc8463Example() throws {
        let key = try DKIMPrivateKey(pem: "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=", algorithm: .ed25519SHA256)
        #expect(key.publicKeyBase64 == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        let message = Array(
            ("From: Joe SixPack <joe@football.example.com>\r\nTo: Suzie Q <suzie@shopping.example.net>\r\n"
                + "Subject: Is dinner ready?\r\nDate: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
                + "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n\r\n"
                + "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n").utf8)
        let (fields, bodyStart) = try DKIMSigner.headerFields(of: message)
        // The RFC's bh= (2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=) is the SHA-256 of exactly this: the two spaces
        // after "game." made one.
        let body = String(decoding: DKIMCanonicalization.relaxedBody(message[bodyStart...]), as: UTF8.self)
        #expect(body == "Hi.\r\n\r\nWe lost the game. Are you hungry yet?\r\n\r\nJoe.\r\n")

        var input: [UInt8] = []
        for field in fields { input += DKIMCanonicalization.relaxedHeader(name: field.name, value: field.value) + [0x0D, 0x0A] }
        let signature =
            " v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n d=football.example.com; i=@football.example.com;\r\n"
            + " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n subject : date : message-id : from : subject : date;\r\n"
            + " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n b="
        input += Array(DKIMCanonicalization.relaxedHeader(name: "DKIM-Signature", value: signature).utf8)
        #expect(
            Data(try key.sign(input)).base64EncodedString()
                == "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==")
    }

    // MARK: Keys

    @Test func garbageIsRefused() throws {
        let cases: [(String, DKIMAlgorithm, String)] = [
            ("", .rsaSHA256, "is empty"),
            ("hello world", .rsaSHA256, "is not a PEM private key"),
            ("hello world", .ed25519SHA256, "is neither a PEM private key nor the base64 of a 32-byte Ed25519 seed"),
            (Data(count: 16).base64EncodedString(), .ed25519SHA256, "is neither a PEM private key"),
            ("-----BEGIN PRIVATE KEY-----\n!!!!notbase64\n-----END PRIVATE KEY-----", .rsaSHA256, "its base64 does not decode"),
            ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n", .rsaSHA256, "has no -----END PRIVATE KEY----- line"),
            ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", .rsaSHA256, "is not a well-formed PKCS#8 private key"),
            ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", .rsaSHA256, "not a private key"),
        ]
        for (pem, algorithm, expected) in cases {
            #expect(throws: DKIMKeyError.self) { try DKIMPrivateKey(pem: pem, algorithm: algorithm) }
            let reason = refusal(pem, algorithm)
            #expect(reason?.contains(expected) == true, "\(pem.prefix(30)): \(reason ?? "accepted")")
        }
    }

    @Test func shortRSAKeysAreRefusedWithTheirSize() throws {
        for traditional in [true, false] {
            let pem = try OpenSSL.key(["genrsa"] + (traditional ? ["-traditional"] : []) + ["512"])
            #expect(pem.hasPrefix(traditional ? "-----BEGIN RSA PRIVATE KEY-----" : "-----BEGIN PRIVATE KEY-----"))
            let reason = try #require(refusal(pem, .rsaSHA256))
            #expect(reason.hasPrefix("is an RSA key of 512 bits; DKIM needs at least 1024"), "\(reason)")
            expectNoKeyText(reason, pem)
        }
        // 1024 bits is the floor, not refused.
        let key = try DKIMPrivateKey(pem: try OpenSSL.key(["genrsa", "1024"]), algorithm: .rsaSHA256)
        #expect(key.keySizeInBits == 1024)
    }

    @Test func keysOfAnotherKindAreNamed() throws {
        let rsa = try OpenSSL.key(["genrsa", "2048"])
        let rsaTraditional = try OpenSSL.key(["genrsa", "-traditional", "2048"])
        let ed25519 = try OpenSSL.key(["genpkey", "-algorithm", "ed25519"])
        let x25519 = try OpenSSL.key(["genpkey", "-algorithm", "x25519"])
        let ecdsa = try OpenSSL.key(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"])
        let encrypted = try OpenSSL.key(["genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "pass:secret"])
        let encryptedTraditional = try OpenSSL.key(["genrsa", "-traditional", "-aes256", "-passout", "pass:secret", "1024"])
        let publicKey = try OpenSSL.run(["pkey", "-pubout"], input: rsa)
        let cases: [(String, DKIMAlgorithm, String)] = [
            (rsa, .ed25519SHA256, "is an RSA key, but the algorithm is ed25519-sha256"),
            (rsaTraditional, .ed25519SHA256, "is an RSA key, but the algorithm is ed25519-sha256"),
            (ed25519, .rsaSHA256, "is an Ed25519 key, but the algorithm is rsa-sha256"),
            (x25519, .ed25519SHA256, "is an X25519 key"),
            (ecdsa, .rsaSHA256, "is an ECDSA key"),
            (encrypted, .ed25519SHA256, "is encrypted"),
            (encryptedTraditional, .rsaSHA256, "is encrypted"),
            (publicKey, .rsaSHA256, "is a public key"),
        ]
        for (pem, algorithm, expected) in cases {
            let reason = try #require(refusal(pem, algorithm), "\(expected)")
            #expect(reason.contains(expected), "\(reason)")
            expectNoKeyText(reason, pem)
        }
    }

    @Test(arguments: DKIMAlgorithm.allCases)
    func generatedKeysRoundTripThroughPEM(algorithm: DKIMAlgorithm) throws {
        let key = DKIMPrivateKey.generate(algorithm)
        #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        let again = try DKIMPrivateKey(pem: key.pemRepresentation, algorithm: algorithm)
        #expect(again.algorithm == algorithm)
        #expect(again.publicKeyBase64 == key.publicKeyBase64)
        #expect(again.pemRepresentation == key.pemRepresentation)
        #expect(key.keySizeInBits == (algorithm == .rsaSHA256 ? 2048 : 256))
        // Nothing of the key in what a log line or a failed expectation would print.
        #expect("\(key)" == "DKIMPrivateKey(\(algorithm.rawValue), \(key.keySizeInBits) bits)")
        var dumped = ""
        dump(key, to: &dumped)
        expectNoKeyText(dumped, key.pemRepresentation)
    }

    /// Keys as OpenSSL writes them give the public key OpenSSL computes: SubjectPublicKeyInfo DER for RSA, the raw 32
    /// bytes for Ed25519. The Ed25519 seed alone (base64) gives the same key.
    @Test func opensslKeysGiveOpensslsPublicKey() throws {
        for arguments in [["genrsa", "-traditional", "2048"], ["genrsa", "2048"]] {
            let pem = try OpenSSL.key(arguments)
            let publicDER = try OpenSSL.run(["pkey", "-pubout", "-outform", "DER"], input: pem, binary: true)
            #expect(try DKIMPrivateKey(pem: pem, algorithm: .rsaSHA256).publicKeyBase64 == publicDER)
        }
        let pem = try OpenSSL.key(["genpkey", "-algorithm", "ed25519"])
        let publicDER = try #require(Data(base64Encoded: try OpenSSL.run(["pkey", "-pubout", "-outform", "DER"], input: pem, binary: true)))
        let key = try DKIMPrivateKey(pem: pem, algorithm: .ed25519SHA256)
        #expect(key.publicKeyBase64 == publicDER.suffix(32).base64EncodedString())
        let privateDER = try #require(Data(base64Encoded: try OpenSSL.run(["pkey", "-outform", "DER"], input: pem, binary: true)))
        let seed = privateDER.suffix(32).base64EncodedString()
        #expect(try DKIMPrivateKey(pem: seed, algorithm: .ed25519SHA256).publicKeyBase64 == key.publicKeyBase64)
        #expect(try DKIMPrivateKey(pem: key.pemRepresentation, algorithm: .ed25519SHA256).publicKeyBase64 == key.publicKeyBase64)
        #expect(Data(base64Encoded: key.publicKeyBase64)?.count == 32)
    }

    // MARK: Names and records

    @Test(
        arguments: [
            ("s1", nil), ("herald-2026", nil), ("mail.s1", nil), ("S1", nil),
            ("", "is empty"), ("s1.", "empty label"), (".s1", "empty label"), ("a..b", "empty label"),
            ("s_1", "only ASCII letters"), ("s 1", "only ASCII letters"), ("sé", "only ASCII letters"), ("s1;x", "only ASCII letters"),
            ("-s1", "hyphen"), ("s1-", "hyphen"), (String(repeating: "a", count: 64), "longer than 63"),
        ] as [(String, String?)])
    func selectorProblems(selector: String, expected: String?) {
        let problem = DKIMSigner.problem(inSelector: selector)
        if let expected { #expect(problem?.contains(expected) == true, "\(problem ?? "accepted")") } else { #expect(problem == nil) }
    }

    @Test(
        arguments: [
            ("example.com", nil), ("mail.example.co.uk", nil), ("xn--caf-dma.example", nil), ("a-b.example", nil),
            ("", "is empty"), ("localhost", "single label"), ("example.com.", "empty label"), ("café.example", "xn--"),
            ("exa mple.com", "only ASCII letters"), ("-a.example", "hyphen"), (String(repeating: "a.", count: 120) + "com", "too long"),
        ] as [(String, String?)])
    func domainProblems(domain: String, expected: String?) {
        let problem = DKIMSigner.problem(inDomain: domain)
        if let expected { #expect(problem?.contains(expected) == true, "\(problem ?? "accepted")") } else { #expect(problem == nil) }
    }

    @Test func records() throws {
        let rsa = DKIMPrivateKey.generate(.rsaSHA256)
        let record = DKIMRecord(domain: "example.com", selector: "s1", key: rsa)
        #expect(record.name == "s1._domainkey.example.com")
        #expect(record.type == "TXT")
        #expect(record.value == "v=DKIM1; k=rsa; p=" + rsa.publicKeyBase64)
        let strings = record.characterStrings
        #expect(strings.count == 3)
        #expect(strings.first == "v=DKIM1; k=rsa; ")
        #expect(strings.allSatisfy { $0.utf8.count <= 255 })
        #expect(strings.joined() == record.value)
        #expect(record.zoneFileValue == strings.map { "\"\($0)\"" }.joined(separator: " "))
        #expect(record.zoneFileValue.hasPrefix("\"v=DKIM1; k=rsa; \" \"p=MII"))

        let ed25519 = DKIMPrivateKey.generate(.ed25519SHA256)
        let short = DKIMRecord(domain: "example.com", selector: "ed", key: ed25519)
        #expect(short.value == "v=DKIM1; k=ed25519; p=" + ed25519.publicKeyBase64)
        #expect(short.characterStrings == [short.value])
        #expect(short.zoneFileValue == "\"\(short.value)\"")
        let decoded = try JSONDecoder().decode(DKIMRecord.self, from: try JSONEncoder().encode(record))
        #expect(decoded == record)
    }

    // MARK: The signature header

    @Test func signatureHeaderShape() throws {
        let key = DKIMPrivateKey.generate(.rsaSHA256)
        let message = try MIMEEncoder.encode(try Self.messages()[1].message)
        let signer = DKIMSigner(domain: "example.com", selector: "s1", key: key)
        let signed = try signer.sign(message, at: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(Array(signed.suffix(message.count)) == message)
        let header = String(decoding: signed.prefix(signed.count - message.count), as: UTF8.self)
        #expect(header.hasPrefix("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1;"))
        #expect(header.hasSuffix("\r\n"))
        let lines = header.dropLast(2).components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 78 }, "\(lines)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        let compact = String(header.filter { !$0.isWhitespace })
        #expect(compact.contains(";t=1800000000;"))
        // Only headers the message has, from bottom to top per name, and From once more than present.
        #expect(
            compact.contains(
                ";h=from:from:to:subject:date:message-id:reply-to:mime-version:content-type:list-unsubscribe:list-unsubscribe-post;"),
            "\(compact)")
        #expect(!compact.contains(":cc:"))

        let noFrom = Array("To: a@example.com\r\nSubject: x\r\n\r\nbody\r\n".utf8)
        #expect(throws: DKIMSigner.Failure.malformedMessage(reason: "has no From header")) { try signer.sign(noFrom, at: Date()) }
        let bad = DKIMSigner(domain: "example.com;x", selector: "s1", key: key)
        #expect(throws: DKIMSigner.Failure.self) { try bad.sign(message, at: Date()) }
        #expect(bad.failure != nil)
        #expect(DKIMSigner(domain: "example.com", selector: "s1", key: key, signedHeaders: ["to"]).failure != nil)
        #expect(signer.failure == nil)
    }

    // MARK: Verification by dkimpy

    static let dkimpyInstalled: Bool =
        (try? ChildProcess.runSynchronously(python: ["-c", "import dkim, nacl"], timeout: 30).status) == 0

    /// Every message signed with every kind of key verifies with dkimpy against the records `DKIMRecord` builds.
    @Test func dkimpyVerifiesSignedMessages() async throws {
        try #require(Self.dkimpyInstalled, "dkimpy and PyNaCl are needed: python3 -m pip install dkimpy pynacl (scripts/test.sh installs them)")
        let keys: [(selector: String, key: DKIMPrivateKey)] = [
            ("rsa", DKIMPrivateKey.generate(.rsaSHA256)),
            ("ed", DKIMPrivateKey.generate(.ed25519SHA256)),
            ("ossl-rsa", try DKIMPrivateKey(pem: try OpenSSL.key(["genrsa", "-traditional", "2048"]), algorithm: .rsaSHA256)),
            ("ossl-rsa1024", try DKIMPrivateKey(pem: try OpenSSL.key(["genrsa", "1024"]), algorithm: .rsaSHA256)),
            ("ossl-ed", try DKIMPrivateKey(pem: try OpenSSL.key(["genpkey", "-algorithm", "ed25519"]), algorithm: .ed25519SHA256)),
        ]
        let folder = TestEngine.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var files: [String] = []
        for (selector, key) in keys {
            let signer = DKIMSigner(domain: "herald.example", selector: selector, key: key)
            for (name, message) in try Self.messageBytes() {
                let file = folder.appendingPathComponent("\(selector)-\(name).eml")
                try Data(try signer.sign(message, at: Date())).write(to: file)
                files.append(file.path)
            }
        }
        let records = keys.map { DKIMRecord(domain: "herald.example", selector: $0.selector, key: $0.key) }
        let results = try await Self.verify(files, records: records, in: folder)
        #expect(results.count == files.count)
        for file in files { #expect(results[file]?.ok == true, "\(file): \(results[file]?.error ?? "no result")") }
    }

    /// A changed body byte, a changed Subject, an added From, or a missing DNS record each make verification fail;
    /// a message signed under selector s2 verifies only once s2's record is published.
    @Test func dkimpyRejectsTamperingAndUnknownSelectors() async throws {
        try #require(Self.dkimpyInstalled, "dkimpy and PyNaCl are needed: python3 -m pip install dkimpy pynacl (scripts/test.sh installs them)")
        let folder = TestEngine.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let s1 = DKIMPrivateKey.generate(.rsaSHA256)
        let s2 = DKIMPrivateKey.generate(.ed25519SHA256)
        let message = try MIMEEncoder.encode(try Self.messages()[1].message)
        let signed = try DKIMSigner(domain: "herald.example", selector: "s1", key: s1).sign(message, at: Date())
        let signedS2 = try DKIMSigner(domain: "herald.example", selector: "s2", key: s2).sign(message, at: Date())

        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let file = folder.appendingPathComponent(name)
            try Data(bytes).write(to: file)
            return file.path
        }
        let intact = try write("intact.eml", signed)
        var body = signed
        let lastLetter = try #require(body.lastIndex(where: { (0x61...0x79).contains($0) }))
        body[lastLetter] += 1
        let bodyChanged = try write("body.eml", body)
        let subjectChanged = try write("subject.eml", Self.replacing("Subject: ", with: "Subject: Re: ", in: signed))
        let fromAdded = try write("from.eml", Self.replacing("From: ", with: "From: Mallory <m@evil.example>\r\nFrom: ", in: signed))
        let unknownSelector = try write("s2.eml", signedS2)

        let s1Record = DKIMRecord(domain: "herald.example", selector: "s1", key: s1)
        let s2Record = DKIMRecord(domain: "herald.example", selector: "s2", key: s2)
        let results = try await Self.verify(
            [intact, bodyChanged, subjectChanged, fromAdded, unknownSelector], records: [s1Record], in: folder)
        #expect(results[intact]?.ok == true, "\(results[intact]?.error ?? "no result")")
        #expect(results[bodyChanged]?.ok == false)
        #expect(results[bodyChanged]?.error.contains("body hash mismatch") == true, "\(results[bodyChanged]?.error ?? "")")
        #expect(results[subjectChanged]?.ok == false)
        #expect(results[fromAdded]?.ok == false)
        #expect(results[unknownSelector]?.ok == false)
        #expect(results[unknownSelector]?.error.contains("missing public key") == true, "\(results[unknownSelector]?.error ?? "")")

        let withS2 = try await Self.verify([unknownSelector], records: [s1Record, s2Record], in: folder)
        #expect(withS2[unknownSelector]?.ok == true, "\(withS2[unknownSelector]?.error ?? "no result")")
        // s2's record holds s2's key: under s1's key the same message fails.
        let swapped = DKIMRecord(domain: "herald.example", selector: "s2", key: DKIMPrivateKey.generate(.ed25519SHA256))
        let withWrongKey = try await Self.verify([unknownSelector], records: [swapped], in: folder)
        #expect(withWrongKey[unknownSelector]?.ok == false)
    }

    // MARK: Helpers

    private func body(_ text: String) -> String {
        String(decoding: DKIMCanonicalization.relaxedBody(Array(text.utf8)[...]), as: UTF8.self)
    }

    private func refusal(_ pem: String, _ algorithm: DKIMAlgorithm) -> String? {
        do throws(DKIMKeyError) {
            _ = try DKIMPrivateKey(pem: pem, algorithm: algorithm)
            return nil
        } catch {
            return error.reason
        }
    }

    /// No line of the PEM's base64 body, nor any 12 characters of it, appears in `text`.
    private func expectNoKeyText(_ text: String, _ pem: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for line in pem.split(separator: "\n") where !line.hasPrefix("-----") && line.count >= 12 {
            let characters = Array(line)
            for start in stride(from: 0, through: characters.count - 12, by: 4) {
                let piece = String(characters[start..<(start + 12)])
                #expect(!text.contains(piece), "key text '\(piece)' leaked", sourceLocation: sourceLocation)
            }
        }
    }

    static let date = Date(timeIntervalSince1970: 1_795_271_400)

    /// Messages as the email channel sends them: plain text; HTML and text with a non-ASCII subject and a folded
    /// List-Unsubscribe; trailing spaces and blank lines in the body; an empty body.
    static func messages() throws -> [(name: String, message: EmailMessage)] {
        let from = try EmailAddress("alerts@herald.example", name: "Herald — Alertes")
        let to = [try EmailAddress("jeanne@clinic.example", name: "Doe, Jeanne")]
        var rich = EmailMessage(
            from: from, to: to + [try EmailAddress("ops@clinic.example")], replyTo: try EmailAddress("help@herald.example"),
            subject: "Rappel : votre rendez-vous de 14 h 30 à la cafétéria « Le Réfectoire » — n'oubliez pas ☕🎉",
            html: "<p>Bonjour Jeanne,</p>\n<p>Votre rendez-vous est <b>confirmé</b>.   </p>\n\n\n",
            text: "Bonjour Jeanne,\n\nVotre rendez-vous est confirmé.  \t \n\n\n", messageID: "msg_2.ev_a@herald.example", date: date)
        rich.extraHeaders = [
            EmailHeader(
                name: "List-Unsubscribe",
                value: "<https://herald.example/unsubscribe/" + String(repeating: "t0k3n", count: 12)
                    + ">, <mailto:unsubscribe@herald.example?subject=u>"),
            EmailHeader(name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click"),
            EmailHeader(name: "X-Herald-Event", value: "ev_a"),
        ]
        return [
            (
                "plain",
                EmailMessage(
                    from: from, to: to, subject: "Your code is 123456", text: "Your code is 123456.\n", messageID: "msg_1.ev_a@herald.example",
                    date: date)
            ),
            ("rich", rich),
            (
                "trailing",
                EmailMessage(
                    from: from, to: to, subject: "Spaces", text: "line  with \t runs   \n\n  \n", messageID: "msg_3.ev_a@herald.example", date: date)
            ),
            ("empty", EmailMessage(from: from, to: to, subject: "Empty", text: "", messageID: "msg_4.ev_a@herald.example", date: date)),
        ]
    }

    /// `messages()` encoded, plus hand-made messages the encoder would not write: a header name repeated (signed bottom
    /// up), a tab after a colon and a folded value, a body with
    /// whitespace at line ends and blank lines at its start and end.
    static func messageBytes() throws -> [(name: String, bytes: [UInt8])] {
        var all = try messages().map { ($0.name, try MIMEEncoder.encode($0.message)) }
        let raw =
            "Received: from a by b\r\nFrom: \"A\" <a@herald.example>\r\nTo: one@example.com\r\nTo: two@example.com\r\n"
            + "Subject:\tfolded\r\n\t  subject  \r\nDate: Sat, 21 Nov 2026 14:30:00 +0000\r\n\r\n\r\n  body \t\r\n\r\nend  \r\n \r\n\r\n"
        all.append(("raw", Array(raw.utf8)))
        return all
    }

    static func replacing(_ needle: String, with replacement: String, in bytes: [UInt8]) throws -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        let range = try #require(text.range(of: "\r\n" + needle))
        return Array(text.replacingCharacters(in: range, with: "\r\n" + replacement).utf8)
    }

    struct Verdict: Decodable {
        var file: String
        var ok: Bool
        var error: String
    }

    /// Runs scripts/dkim_verify.py on `files` with `records` as its DNS; the verdicts by file path.
    static func verify(_ files: [String], records: [DKIMRecord], in folder: URL) async throws -> [String: Verdict] {
        let dns = folder.appendingPathComponent("dns-\(UUID().uuidString).json")
        let table = Dictionary(records.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        try JSONEncoder().encode(table).write(to: dns)
        let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/dkim_verify.py")
        let run = try await ChildProcess.run(
            executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: [SMTPHarness.python, script.path, "--dns", dns.path] + files,
            timeout: 120)
        #expect(run.status == 0 || run.status == 1, "dkim_verify.py exited with \(run.status): \(run.errorOutput)")
        var verdicts: [String: Verdict] = [:]
        for line in String(decoding: run.output, as: UTF8.self).split(separator: "\n") {
            let verdict = try JSONDecoder().decode(Verdict.self, from: Data(line.utf8))
            verdicts[verdict.file] = verdict
        }
        #expect((run.status == 0) == verdicts.values.allSatisfy(\.ok))
        return verdicts
    }

    /// The openssl command line, for keys made the way operators make them.
    enum OpenSSL {
        /// The PEM key `openssl <arguments>` writes to its standard output.
        static func key(_ arguments: [String]) throws -> String {
            try run(arguments, input: nil)
        }

        /// `openssl <arguments>` with `input` as `-in` file; its output as text, or in base64 when `binary`.
        static func run(_ arguments: [String], input: String?, binary: Bool = false) throws -> String {
            let folder = TestEngine.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: folder) }
            var all = arguments
            if let input {
                let file = folder.appendingPathComponent("in.pem")
                try input.write(to: file, atomically: true, encoding: .utf8)
                all += ["-in", file.path]
            }
            let result = try ChildProcess.runSynchronously(
                executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: ["openssl"] + all, timeout: 60)
            try #require(result.status == 0, "openssl \(arguments.joined(separator: " ")) failed: \(result.errorOutput)")
            return binary ? result.output.base64EncodedString() : String(decoding: result.output, as: UTF8.self)
        }
    }
}
