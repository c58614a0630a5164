import NIOCore
import Testing

@testable import Herald

/// The SMTP session's protocol logic, with no socket: each test plays the server's replies and checks
/// what the client decides to do.
@Suite("SMTP session state machine")
struct SMTPSessionStateMachineTests {
    typealias Machine = SMTPSessionStateMachine

    static func reply(_ code: Int, _ lines: String...) -> SMTPReply { SMTPReply(code: code, lines: lines.isEmpty ? ["ok"] : lines) }

    static func readySession(_ extensions: [String] = ["PIPELINING", "SIZE 1000"], security: SMTPServerConfiguration.Security = .none)
        -> Machine
    {
        var machine = Machine(options: .init(heloName: "client.test", security: security))
        _ = machine.start()
        _ = machine.received(reply(220, "mx ESMTP"))
        let action = machine.received(SMTPReply(code: 250, lines: ["mx greets you"] + extensions))
        #expect(action == .ready(machine.capabilities))
        return machine
    }

    @Test func greetingThenEHLOMakesTheSessionReady() {
        var machine = Machine(options: .init(heloName: "client.test", security: .none))
        #expect(machine.start() == .receive)
        #expect(machine.received(Self.reply(220, "mx ESMTP")) == .send([.ehlo("client.test")]))
        let action = machine.received(SMTPReply(code: 250, lines: ["mx", "PIPELINING", "SIZE 2048", "AUTH PLAIN LOGIN", "8BITMIME"]))
        guard case .ready(let capabilities) = action else { Issue.record("not ready: \(action)"); return }
        #expect(capabilities.pipelining && capabilities.size && capabilities.maximumSize == 2048 && capabilities.eightBitMIME)
        #expect(capabilities.authMechanisms == ["PLAIN", "LOGIN"])
    }

    @Test func aServerThatRefusesEHLOGetsHELO() {
        var machine = Machine(options: .init(heloName: "client.test", security: .opportunistic))
        _ = machine.start()
        _ = machine.received(Self.reply(220))
        #expect(machine.received(Self.reply(502, "5.5.1 Unrecognized command")) == .send([.helo("client.test")]))
        #expect(machine.received(Self.reply(250)) == .ready(SMTPCapabilities()))
    }

    @Test func aRefusingGreetingFailsTheSession() {
        var machine = Machine(options: .init(heloName: "c", security: .none))
        _ = machine.start()
        let action = machine.received(Self.reply(554, "no service"))
        #expect(action == .fail(.rejected(step: "the connection", reply: Self.reply(554, "no service"))))
    }

    @Test func startTLSThenEHLOAgainAndForgetsEarlierCapabilities() {
        var machine = Machine(options: .init(heloName: "c", security: .starttls))
        _ = machine.start()
        _ = machine.received(Self.reply(220))
        #expect(machine.received(SMTPReply(code: 250, lines: ["mx", "STARTTLS", "PIPELINING"])) == .send([.startTLS]))
        #expect(machine.received(Self.reply(220, "Ready to start TLS")) == .startTLS)
        #expect(machine.tlsEstablished() == .send([.ehlo("c")]))
        #expect(machine.capabilities == SMTPCapabilities())
        let action = machine.received(SMTPReply(code: 250, lines: ["mx", "AUTH PLAIN"]))
        guard case .ready(let capabilities) = action else { Issue.record("\(action)"); return }
        #expect(!capabilities.pipelining && machine.tlsActive)
    }

    @Test func requiredSTARTTLSThatIsNotOfferedFails() {
        var machine = Machine(options: .init(heloName: "c", security: .starttls))
        _ = machine.start()
        _ = machine.received(Self.reply(220))
        guard case .fail(.unsupported) = machine.received(SMTPReply(code: 250, lines: ["mx", "PIPELINING"])) else {
            Issue.record("expected a failure")
            return
        }
    }

    @Test func opportunisticTLSWithoutSTARTTLSStaysPlainButNeverSendsCredentials() {
        var plain = Machine(options: .init(heloName: "c", security: .opportunistic))
        _ = plain.start()
        _ = plain.received(Self.reply(220))
        guard case .ready = plain.received(SMTPReply(code: 250, lines: ["mx"])) else { Issue.record("expected ready"); return }

        var withPassword = Machine(options: .init(heloName: "c", security: .opportunistic, username: "u", password: "p"))
        _ = withPassword.start()
        _ = withPassword.received(Self.reply(220))
        guard case .fail(.unsupported) = withPassword.received(SMTPReply(code: 250, lines: ["mx", "AUTH PLAIN"])) else {
            Issue.record("credentials must not go over plain text")
            return
        }

        // A server on this machine may take them: nothing crosses a network.
        var loopback = Machine(options: .init(heloName: "c", security: .opportunistic, username: "u", password: "p", plaintextAuthAllowed: true))
        _ = loopback.start()
        _ = loopback.received(Self.reply(220))
        #expect(loopback.received(SMTPReply(code: 250, lines: ["mx", "AUTH PLAIN"])) == .send([.authPlain(username: "u", password: "p")]))
    }

    @Test func authPlainIsPreferredAndLoginIsTheFallback() {
        var plain = Machine(options: .init(heloName: "c", security: .none, username: "ana", password: "s3cret"))
        _ = plain.start()
        _ = plain.received(Self.reply(220))
        #expect(plain.received(SMTPReply(code: 250, lines: ["mx", "AUTH LOGIN PLAIN"])) == .send([.authPlain(username: "ana", password: "s3cret")]))
        guard case .ready = plain.received(Self.reply(235)) else { Issue.record("expected ready"); return }
        #expect(SMTPCommand.authPlain(username: "ana", password: "s3cret").line == "AUTH PLAIN AGFuYQBzM2NyZXQ=")

        var login = Machine(options: .init(heloName: "c", security: .none, username: "ana", password: "s3cret"))
        _ = login.start()
        _ = login.received(Self.reply(220))
        #expect(login.received(SMTPReply(code: 250, lines: ["mx", "AUTH LOGIN"])) == .send([.authLogin]))
        #expect(login.received(Self.reply(334, "VXNlcm5hbWU6")) == .send([.authResponse("ana")]))
        #expect(login.received(Self.reply(334, "UGFzc3dvcmQ6")) == .send([.authResponse("s3cret")]))
        guard case .ready = login.received(Self.reply(235)) else { Issue.record("expected ready"); return }
        #expect(SMTPCommand.authResponse("s3cret").redactedLine == "********")
    }

    @Test func refusedCredentialsFailTheSession() {
        var machine = Machine(options: .init(heloName: "c", security: .none, username: "u", password: "wrong"))
        _ = machine.start()
        _ = machine.received(Self.reply(220))
        _ = machine.received(SMTPReply(code: 250, lines: ["mx", "AUTH PLAIN"]))
        guard case .fail(.rejected(_, let reply)) = machine.received(Self.reply(535, "5.7.8 Authentication credentials invalid")) else {
            Issue.record("expected failure")
            return
        }
        #expect(reply.code == 535 && reply.enhancedStatus == "5.7.8")
    }

    @Test func aPipelinedTransactionSendsEnvelopeAndDataInOneWrite() {
        var machine = Self.readySession()
        #expect(
            machine.beginTransaction(from: "a@x.test", to: ["b@y.test"], size: 100)
                == .send([.mailFrom("a@x.test", size: 100), .rcptTo("b@y.test"), .data]))
        #expect(machine.received(Self.reply(250)) == .wait)
        #expect(machine.received(Self.reply(250)) == .wait)
        #expect(machine.received(Self.reply(354, "go ahead")) == .sendMessage)
        let action = machine.received(Self.reply(250, "2.0.0 queued as 1234"))
        guard case .finished(let result, let reusable) = action else { Issue.record("\(action)"); return }
        #expect(reusable && result.allAccepted && result["b@y.test"]?.reply.code == 250)
        #expect(machine.isReady)
    }

    @Test func oneRecipientsRefusalTouchesOnlyThatRecipientAndTheSessionIsReset() {
        var machine = Self.readySession()
        _ = machine.beginTransaction(from: "a@x.test", to: ["ok@y.test", "tempfail@y.test", "reject@y.test"], size: 10)
        _ = machine.received(Self.reply(250))
        _ = machine.received(Self.reply(250))
        _ = machine.received(Self.reply(451, "4.3.0 Try again later"))
        _ = machine.received(Self.reply(550, "5.1.1 No such user"))
        #expect(machine.received(Self.reply(354)) == .sendMessage)
        #expect(machine.received(Self.reply(250, "queued")) == .send([.rset]))
        let action = machine.received(Self.reply(250))
        guard case .finished(let result, true) = action else { Issue.record("\(action)"); return }
        #expect(result["ok@y.test"]?.accepted == true)
        #expect(result["tempfail@y.test"]?.reply.kind == .transientNegative)
        #expect(result["reject@y.test"]?.reply.code == 550)
        #expect(machine.isReady)
    }

    @Test func whenEveryRecipientIsRefusedDataIsRefusedAndTheSessionResets() {
        var machine = Self.readySession()
        _ = machine.beginTransaction(from: "a@x.test", to: ["reject@y.test"], size: 10)
        _ = machine.received(Self.reply(250))
        _ = machine.received(Self.reply(550, "5.1.1 No such user"))
        #expect(machine.received(Self.reply(554, "5.5.1 No valid recipients")) == .send([.rset]))
        guard case .finished(let result, true) = machine.received(Self.reply(250)) else { Issue.record("expected finished"); return }
        #expect(result["reject@y.test"]?.reply.code == 550)
    }

    @Test func aServerThatAcceptsDataWithoutRecipientsGetsAnEmptyDataEnd() {
        var machine = Self.readySession()
        _ = machine.beginTransaction(from: "a@x.test", to: ["reject@y.test"], size: 10)
        _ = machine.received(Self.reply(250))
        _ = machine.received(Self.reply(550))
        #expect(machine.received(Self.reply(354)) == .abortData)
        #expect(machine.received(Self.reply(554)) == .send([.rset]))
    }

    @Test func withoutPipeliningEachCommandWaitsForItsReply() {
        var machine = Self.readySession([])
        #expect(machine.beginTransaction(from: "a@x.test", to: ["b@y.test", "c@y.test"], size: 5) == .send([.mailFrom("a@x.test", size: nil)]))
        #expect(machine.received(Self.reply(250)) == .send([.rcptTo("b@y.test")]))
        #expect(machine.received(Self.reply(250)) == .send([.rcptTo("c@y.test")]))
        #expect(machine.received(Self.reply(250)) == .send([.data]))
        #expect(machine.received(Self.reply(354)) == .sendMessage)
        guard case .finished(let result, true) = machine.received(Self.reply(250)) else { Issue.record("expected finished"); return }
        #expect(result.allAccepted && result.recipients.count == 2)
    }

    @Test func aRefusedSenderFailsEveryRecipientWithItsReply() {
        var machine = Self.readySession([])
        _ = machine.beginTransaction(from: "a@x.test", to: ["b@y.test"], size: 5)
        #expect(machine.received(Self.reply(451, "4.7.1 Greylisted")) == .send([.rset]))
        guard case .finished(let result, true) = machine.received(Self.reply(250)) else { Issue.record("expected finished"); return }
        #expect(result["b@y.test"]?.reply.code == 451)
    }

    @Test func aMessageOverTheSizeLimitIsRefusedWithoutTouchingTheServer() {
        var machine = Self.readySession(["SIZE 1000"])
        guard case .finished(let result, true) = machine.beginTransaction(from: "a@x.test", to: ["b@y.test"], size: 5000) else {
            Issue.record("expected an immediate refusal")
            return
        }
        #expect(result["b@y.test"]?.reply.code == 552)
        #expect(machine.isReady)
    }

    @Test func aFailedResetMeansTheConnectionIsNotReused() {
        var machine = Self.readySession()
        _ = machine.beginTransaction(from: "a@x.test", to: ["b@y.test"], size: 5)
        _ = machine.received(Self.reply(250))
        _ = machine.received(Self.reply(550))
        _ = machine.received(Self.reply(554))
        guard case .finished(_, false) = machine.received(Self.reply(421, "closing")) else { Issue.record("expected not reusable"); return }
    }

    @Test func quitIsPoliteOnlyWhenIdle() {
        var machine = Self.readySession()
        #expect(machine.quit() == .send([.quit]))
        #expect(machine.received(Self.reply(221)) == .close)
    }
}

@Suite("SMTP replies and data")
struct SMTPReplyParserTests {
    @Test func multilineRepliesAreFoldedIntoOne() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed("250-mx.example greets you") == nil)
        #expect(try parser.feed("250-PIPELINING") == nil)
        let reply = try parser.feed("250 SIZE 100")
        #expect(reply == SMTPReply(code: 250, lines: ["mx.example greets you", "PIPELINING", "SIZE 100"]))
        #expect(try parser.feed("354 ") == SMTPReply(code: 354, lines: [""]))
        #expect(try parser.feed("220") == SMTPReply(code: 220, lines: [""]))
    }

    @Test(arguments: ["hello", "25 short", "250x bad separator", "650 not a class", "abc def"])
    func malformedLinesAreErrors(_ line: String) {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPError.self) { _ = try parser.feed(Substring(line)) }
    }

    @Test func aContinuationCannotChangeTheCode() throws {
        var parser = SMTPReplyParser()
        _ = try parser.feed("250-first")
        #expect(throws: SMTPError.self) { _ = try parser.feed("550 second") }
    }

    @Test func replyKindsFollowTheFirstDigit() {
        #expect(SMTPReply(code: 451, lines: ["4.3.0 later"]).kind == .transientNegative)
        #expect(SMTPReply(code: 550, lines: ["5.1.1 unknown"]).enhancedStatus == "5.1.1")
        #expect(SMTPReply(code: 250, lines: ["ok"]).enhancedStatus == nil)
    }

    @Test func dataIsDotStuffedAndTerminated() {
        let message = Array("Subject: x\r\n\r\n.leading dot\r\nmiddle.dot\n..two\r\nend".utf8)
        let buffer = SMTPConnection.dataBuffer(message, allocator: ByteBufferAllocator())
        let text = String(buffer: buffer)
        #expect(text == "Subject: x\r\n\r\n..leading dot\r\nmiddle.dot\r\n...two\r\nend\r\n.\r\n")
    }
}
