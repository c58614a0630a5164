import Testing

@testable import Herald

/// The inbound listener's command parser: a table of well-formed commands, then hostile lines, which must
/// all give a value (usually a syntax error with the reply to send) and never trap.
@Suite("Inbound SMTP command parser")
struct InboundSMTPCommandTests {
    typealias Command = InboundSMTPCommand

    static func parse(_ line: String) -> Command { Command.parse(Array(line.utf8)) }

    static func code(_ command: Command) -> Int? {
        if case .syntaxError(let code, _) = command { return code }
        return nil
    }

    @Test(
        "well-formed commands",
        arguments: [
            ("EHLO mx.example.org", Command.ehlo("mx.example.org")),
            ("helo mx.example.org", .helo("mx.example.org")),
            ("EhLo [192.0.2.1]", .ehlo("[192.0.2.1]")),
            ("MAIL FROM:<>", .mailFrom(reversePath: "", parameters: [])),
            ("mail from: <>", .mailFrom(reversePath: "", parameters: [])),
            ("MAIL FROM:<a@b.example> SIZE=1200 BODY=8BITMIME",
             .mailFrom(reversePath: "a@b.example", parameters: [.init(keyword: "SIZE", value: "1200"), .init(keyword: "BODY", value: "8BITMIME")])),
            ("MAIL FROM:<@relay.example:a@b.example>", .mailFrom(reversePath: "a@b.example", parameters: [])),
            ("RCPT TO:<bounces+12.abc@bounce.example>", .rcptTo(forwardPath: "bounces+12.abc@bounce.example", parameters: [])),
            ("rcpt to: <Postmaster>", .rcptTo(forwardPath: "Postmaster", parameters: [])),
            ("RCPT TO:<\"john doe\"@example.org>", .rcptTo(forwardPath: "\"john doe\"@example.org", parameters: [])),
            ("RCPT TO:<a@b.example> NOTIFY=NEVER", .rcptTo(forwardPath: "a@b.example", parameters: [.init(keyword: "NOTIFY", value: "NEVER")])),
            ("DATA", .data), ("data\r", .data), ("RSET", .rset), ("NOOP", .noop), ("NOOP anything at all", .noop), ("QUIT", .quit),
            ("VRFY postmaster", .vrfy), ("EXPN list", .expn), ("HELP", .help), ("STARTTLS", .startTLS), ("BDAT 100 LAST", .bdat),
            ("AUTH PLAIN AGFiYwBkZWY=", .auth), ("XCLIENT ADDR=1.2.3.4", .unknown("XCLIENT")), ("GET / HTTP/1.1", .unknown("GET")),
        ])
    func wellFormed(line: String, expected: Command) {
        #expect(Self.parse(line) == expected)
    }

    @Test(
        "malformed commands get the right refusal",
        arguments: [
            ("", 500), ("   ", 500), ("EHLO", 501), ("HELO ", 501),
            ("MAIL FROM:a@b.example", 501),  // missing brackets
            ("MAIL FROM:<a@b.example", 501),  // unclosed bracket
            ("MAIL FROM a@b.example", 501), ("MAIL TO:<a@b.example>", 501), ("MAIL", 501),
            ("RCPT TO:<>", 501),  // the null path is never a recipient
            ("RCPT TO:<nobody>", 501), ("RCPT TO:<@b.example>", 501), ("RCPT TO:<a@>", 501),
            ("RCPT TO:<a b@c.example>", 501), ("RCPT TO:<a@b.example>junk", 501), ("RCPT TO:<a<b@c.example>", 501),
            ("MAIL FROM:<> SIZE=1=2", 501), ("MAIL FROM:<> =x", 501),
            ("DATA now", 501), ("QUIT please", 501), ("STARTTLS x", 501),
        ])
    func malformed(line: String, code: Int) {
        #expect(Self.code(Self.parse(line)) == code, "\(line)")
    }

    @Test("a line over 512 octets is too long, whatever it is")
    func lineTooLong() {
        #expect(Command.parse(Array(repeating: UInt8(ascii: "A"), count: 600)) == Command.lineTooLong)
        #expect(Self.parse("NOOP " + String(repeating: "x", count: 595)) == Command.lineTooLong)
        #expect(Self.parse("NOOP " + String(repeating: "x", count: 507)) == .noop)  // 512 exactly
        #expect(Self.parse("NOOP " + String(repeating: "x", count: 507) + "\r") == .noop)
        #expect(Self.parse("NOOP " + String(repeating: "x", count: 508)) == Command.lineTooLong)
    }

    @Test("a path over 256 octets (brackets included) is refused")
    func pathTooLong() {
        let local254 = String(repeating: "a", count: 254 - "@b.example".count)
        #expect(Self.parse("RCPT TO:<\(local254)@b.example>") == .rcptTo(forwardPath: "\(local254)@b.example", parameters: []))
        #expect(Self.code(Self.parse("RCPT TO:<a\(local254)@b.example>")) == 501)
        #expect(Self.code(Self.parse("MAIL FROM:<\(String(repeating: "x", count: 300))@b.example>")) == 501)
    }

    @Test("NULs, control characters and non-UTF-8 bytes give refusals, not traps")
    func hostileBytes() {
        #expect(Self.code(Command.parse([0x45, 0x48, 0x4C, 0x4F, 0x20, 0x00, 0x61])) == 500)
        #expect(Self.code(Command.parse([0x00, 0x00, 0x00])) == 500)
        #expect(Self.code(Command.parse(Array("RCPT TO:<a@b.example>\u{1B}[2J".utf8))) == 500)
        #expect(Command.parse([0xFF, 0xFE, 0x20, 0x41]) == .unknown("??"))
        #expect(Self.code(Command.parse(Array("RCPT TO:<".utf8) + [0xC3, 0xA9] + Array("@b.example>".utf8))) == 553)
        #expect(Self.code(Command.parse(Array("EHLO ".utf8) + [0xE2, 0x82])) == 501)
        #expect(Command.parse(Array("NOOP ".utf8) + [0xFF, 0xC0]) == .noop)
        #expect(Command.parse(Array("\u{7F}QUIT".utf8)).isSyntaxError)
        #expect(Command.parse(Array("QU\u{00E9}T".utf8)) == .unknown("QU??T"))
    }

    @Test("random lines never trap and always give one value")
    func randomLines() {
        var generator = InboundFuzzGenerator(seed: 0x5EED)
        let pieces = ["MAIL FROM:", "RCPT TO:", "<", ">", "@", " ", "SIZE=", "\"", "\\", ":", "DATA", "EHLO", ".", "\u{0}", "="]
        for _ in 0..<5000 {
            var line: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                if Bool.random(using: &generator) {
                    line += Array(pieces.randomElement(using: &generator)!.utf8)
                } else {
                    line += (0..<Int.random(in: 1...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                }
            }
            _ = Command.parse(line)
        }
    }
}

extension InboundSMTPCommand {
    var isSyntaxError: Bool {
        if case .syntaxError = self { return true }
        return false
    }
}

/// A small seeded generator, so the fuzzing tests replay the same bytes on every run.
struct InboundFuzzGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
