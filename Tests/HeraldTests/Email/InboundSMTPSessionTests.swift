import Testing

@testable import Herald

/// The inbound session's protocol rules with no socket: each test plays the client's commands (and the
/// engine's answers) and checks the replies and actions.
@Suite("Inbound SMTP session state machine")
struct InboundSMTPSessionTests {
    typealias Session = InboundSMTPSession

    static let configuration = Session.Configuration(hostname: "mx.herald.test", maxMessageBytes: 1000, maxRecipients: 100, maxErrors: 10)

    static func session(_ configuration: Session.Configuration = configuration) -> Session {
        var session = Session(configuration: configuration, peerAddress: "192.0.2.7")
        _ = session.start()
        return session
    }

    /// A session after EHLO and `MAIL FROM:<>`.
    static func inTransaction() -> Session {
        var session = session()
        _ = session.receive(.ehlo("mx.example.org"))
        #expect(codes(session.receive(.mailFrom(reversePath: "", parameters: []))) == [250])
        return session
    }

    static func codes(_ actions: [Session.Action]) -> [Int] {
        actions.compactMap {
            if case .reply(let reply) = $0 { return reply.code }
            return nil
        }
    }

    /// RCPT, answered by the engine with `decision`.
    static func rcpt(_ session: inout Session, _ address: String, _ decision: InboundRecipientDecision = .accept) -> [Int] {
        let asked = session.receive(.rcptTo(forwardPath: address, parameters: []))
        guard asked == [.checkRecipient(address)] else { return codes(asked) }
        #expect(session.isAwaitingDecision)
        return codes(session.recipientChecked(decision))
    }

    @Test("greets with 220, and EHLO offers SIZE, 8BITMIME, PIPELINING and ENHANCEDSTATUSCODES only")
    func greetingAndCapabilities() {
        var session = Session(configuration: Self.configuration, peerAddress: "192.0.2.7")
        #expect(session.start() == [.reply(SMTPReply(code: 220, lines: ["mx.herald.test ESMTP Herald bounce receiver"]))])
        #expect(session.start() == [])
        let reply = session.receive(.ehlo("mx.example.org"))
        #expect(
            reply == [
                .reply(
                    SMTPReply(
                        code: 250, lines: ["mx.herald.test greets mx.example.org", "SIZE 1000", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES"]))
            ])
        #expect(Self.codes(session.receive(.helo("old.example.org"))) == [250])
        #expect(session.heloName == "old.example.org" && !session.extended)
    }

    @Test("commands out of order get 503")
    func wrongOrder() {
        var session = Self.session()
        #expect(Self.codes(session.receive(.mailFrom(reversePath: "", parameters: []))) == [503])
        #expect(Self.codes(session.receive(.rcptTo(forwardPath: "a@b.example", parameters: []))) == [503])
        #expect(Self.codes(session.receive(.data)) == [503])
        _ = session.receive(.helo("mx.example.org"))
        #expect(Self.codes(session.receive(.rcptTo(forwardPath: "a@b.example", parameters: []))) == [503])
        #expect(Self.codes(session.receive(.data)) == [503])
        _ = session.receive(.mailFrom(reversePath: "", parameters: []))
        #expect(Self.codes(session.receive(.mailFrom(reversePath: "", parameters: []))) == [503])
        #expect(Self.codes(session.receive(.data)) == [554])
        #expect(session.errorCount == 7)
    }

    @Test("a recipient the policy refuses stays refused while the others are accepted and delivered")
    func refusedRecipient() {
        var session = Self.inTransaction()
        #expect(Self.rcpt(&session, "bounces+1.aa@bounce.example") == [250])
        #expect(Self.rcpt(&session, "victim@elsewhere.example", .refuse(code: 550, text: "5.7.1 Relaying denied")) == [550])
        #expect(Self.rcpt(&session, "bounces+2.bb@bounce.example", .refuse(code: 550, text: "No such user")) == [550])
        #expect(Self.rcpt(&session, "bounces+3.cc@bounce.example") == [250])
        // The same address again is not asked twice.
        #expect(Self.codes(session.receive(.rcptTo(forwardPath: "BOUNCES+1.aa@bounce.example", parameters: []))) == [250])
        #expect(session.receive(.data) == [.reply(SMTPReply(code: 354, lines: ["End data with <CR><LF>.<CR><LF>"])), .startData])
        #expect(session.isReceivingData)
        let actions = session.dataFinished(message: Array("Subject: x\r\n\r\nhi\r\n".utf8), size: 19, tooLarge: false)
        #expect(
            actions == [
                .deliver(
                    InboundMail(
                        reversePath: "", recipients: ["bounces+1.aa@bounce.example", "bounces+3.cc@bounce.example"], heloName: "mx.example.org",
                        peerAddress: "192.0.2.7", message: Array("Subject: x\r\n\r\nhi\r\n".utf8)))
            ])
        #expect(session.delivered(.accepted) == [.reply(SMTPReply(code: 250, lines: ["2.0.0 OK: message accepted"]))])
        #expect(!session.isAwaitingDecision)
    }

    @Test("a refusal text gets an enhanced status code, a line break is removed, and a non-refusing code becomes 550")
    func refusalTexts() {
        var session = Self.inTransaction()
        let asked = session.receive(.rcptTo(forwardPath: "a@b.example", parameters: []))
        #expect(asked == [.checkRecipient("a@b.example")])
        #expect(session.recipientChecked(.refuse(code: 550, text: "No\r\n250 such")) == [.reply(SMTPReply(code: 550, lines: ["5.1.0 No250 such"]))])
        _ = session.receive(.rcptTo(forwardPath: "c@b.example", parameters: []))
        #expect(session.recipientChecked(.refuse(code: 250, text: "5.1.1 Unknown")) == [.reply(SMTPReply(code: 550, lines: ["5.1.1 Unknown"]))])
        _ = session.receive(.rcptTo(forwardPath: "d@b.example", parameters: []))
        #expect(
            session.recipientChecked(.refuse(code: 451, text: "4.3.0 Try later")) == [.reply(SMTPReply(code: 451, lines: ["4.3.0 Try later"]))])
    }

    @Test("no accepted recipient: DATA gets 554")
    func dataWithoutRecipients() {
        var session = Self.inTransaction()
        #expect(Self.rcpt(&session, "a@b.example", .refuse(code: 550, text: "5.1.1 no")) == [550])
        #expect(Self.codes(session.receive(.data)) == [554])
    }

    @Test("the 101st recipient gets 452")
    func recipientLimit() {
        var session = Self.inTransaction()
        for index in 1...100 { #expect(Self.rcpt(&session, "bounces+\(index).x@bounce.example") == [250]) }
        #expect(session.receive(.rcptTo(forwardPath: "bounces+101.x@bounce.example", parameters: [])) == [
            .reply(SMTPReply(code: 452, lines: ["4.5.3 Too many recipients"]))
        ])
        #expect(Self.codes(session.receive(.data)) == [354])
        guard case .deliver(let mail) = session.dataFinished(message: [], size: 0, tooLarge: false).first else {
            Issue.record("no delivery")
            return
        }
        #expect(mail.recipients.count == 100)
    }

    @Test("MAIL FROM with a SIZE over the limit gets 552; bad SIZE 501; unknown parameters 555")
    func sizeParameter() {
        var session = Self.session()
        _ = session.receive(.ehlo("c"))
        #expect(Self.codes(session.receive(.mailFrom(reversePath: "", parameters: [.init(keyword: "SIZE", value: "1001")]))) == [552])
        #expect(Self.codes(session.receive(.mailFrom(reversePath: "", parameters: [.init(keyword: "SIZE", value: "99999999999999999999")]))) == [552])
        #expect(Self.codes(session.receive(.mailFrom(reversePath: "", parameters: [.init(keyword: "SIZE", value: "-1")]))) == [501])
        #expect(Self.codes(session.receive(.mailFrom(reversePath: "", parameters: [.init(keyword: "SMTPUTF8", value: nil)]))) == [555])
        #expect(
            Self.codes(
                session.receive(.mailFrom(reversePath: "", parameters: [.init(keyword: "SIZE", value: "1000"), .init(keyword: "BODY", value: "8bitmime")])))
                == [250])
        #expect(Self.codes(session.receive(.rcptTo(forwardPath: "a@b.example", parameters: [.init(keyword: "NOTIFY", value: "NEVER")]))) == [555])
    }

    @Test("a message over the limit is refused with 552 and never delivered; the session goes on")
    func messageTooLarge() {
        var session = Self.inTransaction()
        _ = Self.rcpt(&session, "a@b.example")
        _ = session.receive(.data)
        #expect(session.dataFinished(message: [], size: 50_000_000, tooLarge: true) == [
            .reply(SMTPReply(code: 552, lines: ["5.3.4 Message size exceeds the fixed limit of 1000 bytes"]))
        ])
        #expect(Self.codes(session.receive(.mailFrom(reversePath: "", parameters: []))) == [250])
        _ = Self.rcpt(&session, "a@b.example")
        _ = session.receive(.data)
        // The driver's size is checked too, not only its flag.
        #expect(Self.codes(session.dataFinished(message: Array(repeating: 0x41, count: 1001), size: 1001, tooLarge: false)) == [552])
    }

    @Test("the engine's delivery outcome becomes 250, 451 or 554")
    func deliveryOutcomes() {
        for (outcome, code, text) in [
            (InboundDeliveryOutcome.accepted, 250, "2.0.0 OK: message accepted"), (.temporaryFailure("store unavailable"), 451, "4.3.0 store unavailable"),
            (.rejected("5.7.1 not a report"), 554, "5.7.1 not a report"),
        ] {
            var session = Self.inTransaction()
            _ = Self.rcpt(&session, "a@b.example")
            _ = session.receive(.data)
            guard case .deliver = session.dataFinished(message: [], size: 0, tooLarge: false).first else {
                Issue.record("no delivery")
                continue
            }
            #expect(session.receive(.noop) == [.reply(SMTPReply(code: 503, lines: ["5.5.1 One command at a time"]))])
            #expect(session.delivered(outcome) == [.reply(SMTPReply(code: code, lines: [text]))])
            #expect(Self.codes(session.receive(.mailFrom(reversePath: "", parameters: []))) == [250])
        }
    }

    @Test("the tenth refusal ends the session with 421")
    func errorLimit() {
        var session = Self.session()
        for _ in 1...9 { #expect(Self.codes(session.receive(.unknown("FOO"))) == [500]) }
        #expect(session.receive(.syntaxError(code: 500, text: "5.5.2 Line too long")) == [
            .reply(SMTPReply(code: 421, lines: ["4.7.0 mx.herald.test Too many errors, closing the connection"])), .close,
        ])
        #expect(session.isClosed)
        #expect(session.receive(.noop) == [])
    }

    @Test("refusals by the policy count toward the error limit")
    func policyRefusalsCount() {
        var session = Self.session(.init(hostname: "h", maxErrors: 3))
        _ = session.receive(.ehlo("c"))
        _ = session.receive(.mailFrom(reversePath: "", parameters: []))
        #expect(Self.rcpt(&session, "a@x.example", .refuse(code: 550, text: "no")) == [550])
        #expect(Self.rcpt(&session, "b@x.example", .refuse(code: 450, text: "later")) == [450])
        #expect(Self.rcpt(&session, "c@x.example", .refuse(code: 550, text: "no")) == [550])
        #expect(Self.rcpt(&session, "d@x.example", .refuse(code: 550, text: "no")) == [421])
    }

    @Test("QUIT answers 221 and closes; RSET keeps the greeting but forgets the transaction")
    func quitAndRset() {
        var session = Self.inTransaction()
        _ = Self.rcpt(&session, "a@b.example")
        #expect(session.receive(.rset) == [.reply(SMTPReply(code: 250, lines: ["2.0.0 OK"]))])
        #expect(Self.codes(session.receive(.data)) == [503])
        #expect(Self.codes(session.receive(.mailFrom(reversePath: "x@y.example", parameters: []))) == [250])
        #expect(session.receive(.quit) == [.reply(SMTPReply(code: 221, lines: ["2.0.0 mx.herald.test Bye"])), .close])
        #expect(session.isClosed)

        var fresh = Self.session()
        #expect(Self.codes(fresh.receive(.rset)) == [250])
        #expect(Self.codes(fresh.receive(.mailFrom(reversePath: "", parameters: []))) == [503])
    }

    @Test("NOOP 250, VRFY 252, HELP 214, unknown 500, STARTTLS/AUTH/BDAT/EXPN 502")
    func otherCommands() {
        var session = Self.session()
        #expect(Self.codes(session.receive(.noop)) == [250])
        #expect(Self.codes(session.receive(.vrfy)) == [252])
        #expect(Self.codes(session.receive(.help)) == [214])
        #expect(Self.codes(session.receive(.unknown("XYZZY"))) == [500])
        for command in [InboundSMTPCommand.startTLS, .auth, .bdat, .expn] { #expect(Self.codes(session.receive(command)) == [502]) }
    }

    @Test("a timeout or a shutdown answers 421 and closes, once")
    func timeoutAndShutdown() {
        var session = Self.session()
        #expect(session.timedOut() == [.reply(SMTPReply(code: 421, lines: ["4.4.2 mx.herald.test Timeout, closing the connection"])), .close])
        #expect(session.timedOut() == [])
        var other = Self.session()
        #expect(Self.codes(other.shuttingDown()) == [421])
    }

    @Test("a second EHLO ends the transaction in progress")
    func ehloResets() {
        var session = Self.inTransaction()
        _ = Self.rcpt(&session, "a@b.example")
        _ = session.receive(.ehlo("again"))
        #expect(Self.codes(session.receive(.data)) == [503])
    }
}
