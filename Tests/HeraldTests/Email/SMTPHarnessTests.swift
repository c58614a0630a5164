import Foundation
import Testing

/// The SMTP test harness on its own, driven by Python's smtplib (not Herald's client): proof that the servers
/// behave as the email tests assume, and that check_mailbox.py reads what they received.
@Suite("SMTP test harness")
struct SMTPHarnessTests {
    /// Runs `python3 -c code args…` (bounded) and decodes the JSON object it prints last.
    static func python<T: Decodable>(_ type: T.Type, _ code: String, _ arguments: [String], timeout: Double = 60) async throws -> T {
        let result = try await ChildProcess.run(python: ["-c", code] + arguments, timeout: timeout)
        let text = String(decoding: result.output, as: UTF8.self)
        guard result.status == 0 else { throw SMTPHarnessError("python exited with status \(result.status):\n\(result.errorOutput)\n\(text)") }
        guard let line = text.split(separator: "\n").last else { throw SMTPHarnessError("python printed nothing:\n\(result.errorOutput)") }
        return try JSONDecoder().decode(T.self, from: Data(line.utf8))
    }

    /// Shared by the client snippets: `message(to, subject, x, html=False, unsubscribe=False)` builds a message;
    /// `attempt(smtp, to_addrs, msg)` sends it and returns {address: code} for every recipient, 250 when accepted.
    static let prelude = """
        import json, smtplib, ssl, sys
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        def message(to, subject, x, html=False, unsubscribe=False):
            m = EmailMessage()
            m["From"] = "Herald <herald@example.com>"
            m["To"] = to
            m["Subject"] = subject
            m["Date"] = formatdate()
            m["Message-ID"] = make_msgid(domain="herald.test")
            m["X-Herald-Message"] = x
            if unsubscribe:
                m["List-Unsubscribe"] = "<https://herald.test/u/1>"
                m["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            m.set_content("Hello in plain text.\\n.a line that starts with a dot\\n")
            if html:
                m.add_alternative("<p>Hello in <b>HTML</b>.</p>", subtype="html")
            return m

        def attempt(smtp, to_addrs, msg):
            try:
                refused = smtp.send_message(msg, to_addrs=to_addrs)
            except smtplib.SMTPRecipientsRefused as error:
                refused = error.recipients
            return {a: (refused[a][0] if a in refused else 250) for a in to_addrs}

        """

    @Test("accepted messages are spooled with their envelopes, and check_mailbox parses them")
    func spoolAndMailbox() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }

        struct Reply: Decodable {
            var features: [String: String]
            var codes: [[String: Int]]
        }
        let reply = try await Self.python(
            Reply.self,
            Self.prelude + """
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
                    s.ehlo("client.test")
                    features = dict(s.esmtp_features)
                    codes = [
                        attempt(s, ["ada@example.com"], message("Ada <ada@example.com>", "Welcome", "m1", html=True, unsubscribe=True)),
                        attempt(s, ["bob@example.com", "cy@example.com"], message("bob@example.com", "Digest", "m2")),
                    ]
                print(json.dumps({"features": features, "codes": codes}))
                """, [String(server.port)])

        #expect(reply.features["pipelining"] != nil, "EHLO: \(reply.features)")
        #expect(reply.features["size"] == "10485760")
        #expect(reply.features["auth"] == nil, "no credentials configured, so no AUTH: \(reply.features)")
        #expect(reply.features["starttls"] == nil)
        #expect(reply.codes == [["ada@example.com": 250], ["bob@example.com": 250, "cy@example.com": 250]])

        #expect(try await server.waitForMessages(2))
        #expect(server.receivedCount() == 2)
        #expect(server.connectionCount() == 1)
        let envelopes = try server.envelopes()
        #expect(envelopes.map(\.file) == ["00000001.eml", "00000002.eml"])
        #expect(envelopes.map(\.mailFrom) == ["herald@example.com", "herald@example.com"])
        #expect(envelopes.map(\.rcptTos) == [["ada@example.com"], ["bob@example.com", "cy@example.com"]])
        #expect(envelopes.allSatisfy { $0.session == 1 && !$0.tls && !$0.auth && $0.peer.hasPrefix("127.0.0.1:") })
        let raw = try #require(envelopes.first.map { try server.message($0) })
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.contains("X-Herald-Message: m1\r\n"))
        #expect(text.contains("\r\n.a line that starts with a dot\r\n"), "the spool holds the message dot-unstuffed")

        let report = try server.mailbox(countHeader: "X-Herald-Message")
        #expect(report.count == 2)
        #expect(report.uniqueMessageIds == 2)
        #expect(report.duplicateMessageIds.isEmpty)
        #expect(report.missingHeaders == ["From": 0, "To": 0, "Subject": 0, "Date": 0, "Message-ID": 0, "MIME-Version": 0])
        #expect(report.multipartAlternative == 1)
        #expect(report.parseErrors == 0, "\(report.parseErrorSamples)")
        #expect(report.subjects == ["Welcome": 1, "Digest": 1])
        #expect(report.to == ["ada@example.com": 1, "bob@example.com": 1])
        #expect(report.rcptTo == ["ada@example.com": 1, "bob@example.com": 1, "cy@example.com": 1])
        #expect(report.byXHeader == ["m1": 1, "m2": 1])
        #expect(report.xHeaderMissing == 0)
        #expect(report.listUnsubscribe == 1)
        #expect(report.listUnsubscribePost == 1)
        #expect(report.bareLF == 0)
        #expect(report.smtpSinkFormat == 0)
    }

    @Test("a tempfail recipient gets 451 the configured number of times, per address, then is accepted")
    func tempfailThenAccept() async throws {
        let server = try await SMTPTestServer.start(.init(tempfailTimes: 2))
        defer { server.stop() }

        struct Reply: Decodable { var codes: [[String: Int]] }
        let reply = try await Self.python(
            Reply.self,
            Self.prelude + """
                codes = []
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
                    for n in range(3):
                        codes.append(attempt(s, ["tempfail-a@example.com", "ok@example.com"], message("a@example.com", "Try", f"t{n}")))
                    codes.append(attempt(s, ["TempFail-B@example.com"], message("b@example.com", "Try", "b0")))
                print(json.dumps({"codes": codes}))
                """, [String(server.port)])
        #expect(
            reply.codes == [
                ["tempfail-a@example.com": 451, "ok@example.com": 250],
                ["tempfail-a@example.com": 451, "ok@example.com": 250],
                ["tempfail-a@example.com": 250, "ok@example.com": 250],
                ["TempFail-B@example.com": 451],
            ])
        #expect(try await server.waitForMessages(3))
        #expect(try server.envelopes().map(\.rcptTos) == [["ok@example.com"], ["ok@example.com"], ["tempfail-a@example.com", "ok@example.com"]])
        let refusals = try server.refusals()
        #expect(refusals.map(\.rcpt) == ["tempfail-a@example.com", "tempfail-a@example.com", "TempFail-B@example.com"])
        #expect(refusals.allSatisfy { $0.reply == "451 4.3.0 Try again later" && $0.code == 451 })

        // The counts survive a restart: b has one 451 left, a none.
        try await server.restart()
        let again = try await Self.python(
            Reply.self,
            Self.prelude + """
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
                    codes = [attempt(s, ["tempfail-b@example.com", "tempfail-a@example.com"], message("b@example.com", "Try", "b1"))]
                    codes.append(attempt(s, ["tempfail-b@example.com"], message("b@example.com", "Try", "b2")))
                print(json.dumps({"codes": codes}))
                """, [String(server.port)])
        #expect(again.codes == [["tempfail-b@example.com": 451, "tempfail-a@example.com": 250], ["tempfail-b@example.com": 250]])
    }

    @Test("a reject recipient always gets 550 and the others of the message are still accepted")
    func rejectAlways() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }

        struct Reply: Decodable {
            var codes: [[String: Int]]
            var text: String
        }
        let reply = try await Self.python(
            Reply.self,
            Self.prelude + """
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
                    codes = [attempt(s, ["reject-x@example.com"], message("x@example.com", "No", "r0")) for _ in range(3)]
                    codes.append(attempt(s, ["reject-x@example.com", "ok@example.com"], message("x@example.com", "Half", "r1")))
                    s.ehlo()
                    s.mail("herald@example.com")
                    code, text = s.rcpt("rejected.user@example.com")
                    s.rset()
                print(json.dumps({"codes": codes + [{"direct": code}], "text": text.decode()}))
                """, [String(server.port)])
        #expect(
            reply.codes == [
                ["reject-x@example.com": 550], ["reject-x@example.com": 550], ["reject-x@example.com": 550],
                ["reject-x@example.com": 550, "ok@example.com": 250], ["direct": 550],
            ])
        #expect(reply.text == "5.1.1 No such user here")
        #expect(try await server.waitForMessages(1))
        // Give a wrongly accepted message a moment to show up before asserting there is none.
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.receivedCount() == 1)
        #expect(try server.envelopes().map(\.rcptTos) == [["ok@example.com"]])
        #expect(try server.refusals().count == 5)
    }

    @Test("AUTH required: 530 before AUTH, 535 for a wrong password, PLAIN and LOGIN accepted")
    func authRequired() async throws {
        let server = try await SMTPTestServer.start(
            .init(credentials: .init(user: "herald", password: "s3cret"), authRequired: true, allowPlainAuth: true))
        defer { server.stop() }

        struct Reply: Decodable {
            var auth: String
            var codes: [String: Int]
        }
        let reply = try await Self.python(
            Reply.self,
            Self.prelude + """
                port = int(sys.argv[1])
                codes = {}
                with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                    s.ehlo()
                    auth = s.esmtp_features.get("auth", "")
                    codes["mail_before_auth"] = s.mail("herald@example.com")[0]
                    try:
                        s.login("herald", "wrong")
                        codes["wrong_password"] = 235
                    except smtplib.SMTPAuthenticationError as error:
                        codes["wrong_password"] = error.smtp_code
                    s.user, s.password = "herald", "s3cret"
                    codes["plain"] = s.auth("PLAIN", s.auth_plain)[0]
                    codes["send_plain"] = attempt(s, ["a@example.com"], message("a@example.com", "Authed", "p"))["a@example.com"]
                with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                    s.ehlo()
                    s.user, s.password = "herald", "s3cret"
                    codes["login"] = s.auth("LOGIN", s.auth_login, initial_response_ok=False)[0]
                    codes["send_login"] = attempt(s, ["b@example.com"], message("b@example.com", "Authed", "l"))["b@example.com"]
                print(json.dumps({"auth": auth, "codes": codes}))
                """, [String(server.port)])
        #expect(Set(reply.auth.split(separator: " ")) == ["LOGIN", "PLAIN"])
        #expect(
            reply.codes == [
                "mail_before_auth": 530, "wrong_password": 535, "plain": 235, "send_plain": 250, "login": 235, "send_login": 250,
            ])
        #expect(try await server.waitForMessages(2))
        let envelopes = try server.envelopes()
        #expect(envelopes.allSatisfy { $0.auth && !$0.tls })
        #expect(envelopes.map(\.session) == [1, 2])
        #expect(server.connectionCount() == 2)
    }

    @Test("STARTTLS is offered, AUTH only after it, and the certificate verifies for localhost and 127.0.0.1")
    func startTLS() async throws {
        let certificate = try TestCertificate.make()
        let server = try await SMTPTestServer.start(
            .init(credentials: .init(user: "herald", password: "s3cret"), authRequired: true, startTLS: certificate))
        defer { server.stop() }

        struct Reply: Decodable {
            var before: [String]
            var after: [String]
            var codes: [String: Int]
        }
        let reply = try await Self.python(
            Reply.self,
            Self.prelude + """
                port, cafile = int(sys.argv[1]), sys.argv[2]
                codes = {}
                with smtplib.SMTP("localhost", port, timeout=10) as s:
                    s.ehlo()
                    before = sorted(s.esmtp_features)
                    codes["mail_before_tls"] = s.mail("herald@example.com")[0]
                    codes["auth_before_tls"] = s.docmd("AUTH", "PLAIN AGhlcmFsZABzM2NyZXQ=")[0]
                    codes["starttls"] = s.starttls(context=ssl.create_default_context(cafile=cafile))[0]
                    s.ehlo()
                    after = sorted(s.esmtp_features)
                    codes["login"] = s.login("herald", "s3cret")[0]
                    codes["send"] = attempt(s, ["a@example.com"], message("a@example.com", "Secret", "tls"))["a@example.com"]
                with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                    codes["starttls_ip"] = s.starttls(context=ssl.create_default_context(cafile=cafile))[0]
                print(json.dumps({"before": before, "after": after, "codes": codes}))
                """, [String(server.port), certificate.certPath])
        #expect(reply.before.contains("starttls"))
        #expect(!reply.before.contains("auth"))
        #expect(reply.after.contains("auth"))
        #expect(!reply.after.contains("starttls"))
        #expect(
            reply.codes == [
                "mail_before_tls": 530, "auth_before_tls": 538, "starttls": 220, "login": 235, "send": 250, "starttls_ip": 220,
            ])
        #expect(try await server.waitForMessages(1))
        #expect(try server.envelopes().map { [$0.tls, $0.auth] } == [[true, true]])
    }

    @Test("implicit TLS: the connection is TLS from the first byte; --require-starttls refuses MAIL before STARTTLS")
    func implicitTLSAndRequiredStartTLS() async throws {
        let certificate = try TestCertificate.make()
        let smtps = try await SMTPTestServer.start(.init(credentials: .init(user: "herald", password: "s3cret"), implicitTLS: certificate))
        defer { smtps.stop() }
        let required = try await SMTPTestServer.start(.init(startTLS: certificate, requireStartTLS: true))
        defer { required.stop() }

        struct Reply: Decodable { var codes: [String: Int] }
        let reply = try await Self.python(
            Reply.self,
            Self.prelude + """
                smtps, required, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
                codes = {}
                context = ssl.create_default_context(cafile=cafile)
                with smtplib.SMTP_SSL("127.0.0.1", smtps, context=context, timeout=10) as s:
                    codes["login"] = s.login("herald", "s3cret")[0]
                    codes["send"] = attempt(s, ["a@example.com"], message("a@example.com", "SMTPS", "i"))["a@example.com"]
                try:
                    with smtplib.SMTP("127.0.0.1", smtps, timeout=1) as s:
                        codes["plaintext_greeting"] = 220
                except (smtplib.SMTPException, OSError):
                    codes["plaintext_greeting"] = 0
                with smtplib.SMTP("127.0.0.1", required, timeout=10) as s:
                    s.ehlo()
                    codes["mail_before_starttls"] = s.mail("herald@example.com")[0]
                    s.starttls(context=context)
                    s.ehlo()
                    codes["send_after_starttls"] = attempt(s, ["b@example.com"], message("b@example.com", "Required", "r"))["b@example.com"]
                print(json.dumps({"codes": codes}))
                """, [String(smtps.port), String(required.port), certificate.certPath])
        #expect(
            reply.codes == [
                "login": 235, "send": 250, "plaintext_greeting": 0, "mail_before_starttls": 530, "send_after_starttls": 250,
            ])
        #expect(try await smtps.waitForMessages(1))
        #expect(try smtps.envelopes().map { [$0.tls, $0.auth] } == [[true, true]])
        #expect(try await required.waitForMessages(1))
        #expect(try required.envelopes().map(\.tls) == [true])
    }

    @Test("stop refuses connections; restart listens on the same port and spool, numbering on")
    func stopAndRestart() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        struct Reply: Decodable { var code: Int }
        let send =
            Self.prelude + """
                try:
                    with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=5) as s:
                        code = attempt(s, ["a@example.com"], message("a@example.com", "Up", sys.argv[2]))["a@example.com"]
                except ConnectionRefusedError:
                    code = -1
                print(json.dumps({"code": code}))
                """

        #expect(try await Self.python(Reply.self, send, [String(server.port), "first"]).code == 250)
        server.stop()
        #expect(!server.isRunning)
        #expect(try await Self.python(Reply.self, send, [String(server.port), "while down"]).code == -1)
        try await server.restart()
        #expect(server.isRunning)
        #expect(try await Self.python(Reply.self, send, [String(server.port), "second"]).code == 250)
        #expect(try await server.waitForMessages(2))
        let envelopes = try server.envelopes()
        #expect(envelopes.map(\.file) == ["00000001.eml", "00000002.eml"])
        #expect(envelopes.map(\.session) == [1, 2])
        #expect(server.connectionCount() == 2)
        #expect(try server.mailbox(countHeader: "X-Herald-Message").byXHeader == ["first": 1, "second": 1])
    }

    @Test("pipelined transactions: 1,000 messages over two connections, each accepted exactly once")
    func pipelinedBurst() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        struct Reply: Decodable { var accepted: Int }
        // Raw SMTP over a socket, MAIL, RCPT and DATA sent in one write (RFC 2920), then the content.
        let reply = try await Self.python(
            Reply.self,
            """
            import json, socket, sys, threading
            port, per_connection = int(sys.argv[1]), 500
            accepted = []

            def run(c):
                s = socket.create_connection(("127.0.0.1", port), timeout=20)
                f = s.makefile("rb")
                def reply():
                    while True:
                        line = f.readline()
                        if line[3:4] != b"-":
                            return int(line[:3])
                assert reply() == 220
                s.sendall(b"EHLO burst.test\\r\\n")
                assert reply() == 250
                ok = 0
                for i in range(per_connection):
                    s.sendall(b"MAIL FROM:<herald@example.com>\\r\\nRCPT TO:<u%d-%d@example.com>\\r\\nDATA\\r\\n" % (c, i))
                    if (reply(), reply(), reply()) != (250, 250, 354):
                        break
                    body = b"From: herald@example.com\\r\\nTo: u%d-%d@example.com\\r\\nSubject: Burst\\r\\nMessage-ID: <%d.%d@burst>\\r\\nX-Herald-Message: %d-%d\\r\\n\\r\\nHi\\r\\n.\\r\\n" % (c, i, c, i, c, i)
                    s.sendall(body)
                    ok += reply() == 250
                s.sendall(b"QUIT\\r\\n")
                reply()
                accepted.append(ok)

            threads = [threading.Thread(target=run, args=(c,)) for c in range(2)]
            for t in threads: t.start()
            for t in threads: t.join()
            print(json.dumps({"accepted": sum(accepted)}))
            """, [String(server.port)], timeout: 120)
        #expect(reply.accepted == 1000)
        #expect(try await server.waitForMessages(1000))
        #expect(server.connectionCount() == 2)
        let report = try server.mailbox(countHeader: "X-Herald-Message")
        #expect(report.count == 1000)
        #expect(report.uniqueMessageIds == 1000)
        #expect(report.byXHeader.count == 1000)
        #expect(report.duplicateXHeaderValues.isEmpty)
        #expect(report.parseErrors == 0)
    }

    @Test("smtp-sink receives messages and check_mailbox parses its dump files", .enabled(if: SMTPSink.isAvailable))
    func smtpSink() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }

        struct Reply: Decodable {
            var features: [String]
            var codes: [[String: Int]]
        }
        let reply = try await Self.python(
            Reply.self,
            Self.prelude + """
                with smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10) as s:
                    s.ehlo()
                    features = sorted(s.esmtp_features)
                    codes = [attempt(s, ["a@example.com", "b@example.com"], message("a@example.com", "Sunk", f"s{n}", html=n == 0)) for n in range(3)]
                print(json.dumps({"features": features, "codes": codes}))
                """, [String(sink.port)])
        #expect(reply.features.contains("pipelining"))
        #expect(reply.codes == Array(repeating: ["a@example.com": 250, "b@example.com": 250], count: 3))
        #expect(try await sink.waitForMessages(3))
        #expect(try await SMTPHarness.eventually(timeout: 5) { sink.counters()?.sessions == 1 }, "\(String(describing: sink.counters()))")
        #expect(sink.receivedCount() == 3)

        let report = try sink.mailbox(countHeader: "X-Herald-Message")
        #expect(report.count == 3)
        #expect(report.smtpSinkFormat == 3)
        #expect(report.parseErrors == 0, "\(report.parseErrorSamples)")
        #expect(report.uniqueMessageIds == 3)
        #expect(report.missingHeaders.values.allSatisfy { $0 == 0 }, "\(report.missingHeaders)")
        #expect(report.multipartAlternative == 1)
        #expect(report.rcptTo == ["a@example.com": 3, "b@example.com": 3])
        #expect(report.to == ["a@example.com": 3])
        #expect(report.byXHeader == ["s0": 1, "s1": 1, "s2": 1])
        #expect(report.subjects == ["Sunk": 3])
    }
}
