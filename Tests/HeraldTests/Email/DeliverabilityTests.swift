import Foundation
import Herald
import Testing

/// Email a mail team would trust, end to end: DKIM signatures that dkimpy verifies against the DNS records
/// Herald prints, VERP return paths whose bounces and complaints reach Herald's own inbound SMTP listener,
/// and the suppression list they feed. Real servers throughout: aiosmtpd receives the email, Herald's SMTP
/// client sends the reports to the listener.
@Suite("Email deliverability: DKIM, bounces, suppression", .serialized)
struct DeliverabilityTests {
    static let bounceDomain = "bounces.herald.test"

    static func engine(smtpPort: Int, backend: StoreBackend = .sqlite, inbound: Bool = true) async throws -> HeraldEngine {
        try await WebhookFixtures.engine(on: backend) { configuration in
            configuration.email.smtp = EmailDeliveryTests.smtp(port: smtpPort)
            configuration.email.fromAddress = "notices@maplecourt.example"
            if inbound {
                configuration.email.bounceDomain = bounceDomain
                configuration.email.inbound = EmailDefaults.InboundListener(host: "127.0.0.1", port: 0)
            }
        }
    }

    /// A tenant with the `notice` email type and subscribers `s0…` at `user<i>@example.com`.
    static func tenant(_ engine: HeraldEngine, count: Int) async throws -> String {
        try await EmailDeliveryTests.tenant(engine, count: count)
    }

    static func send(_ engine: HeraldEngine, tenantID: String, to subscribers: [String], n: Int = 1) async throws -> [(Message, [DeliveryAttempt])] {
        let (receipt, _) = try await engine.trigger(
            Trigger(type: "notice", recipients: subscribers.map { .subscriber($0) }, payload: ["n": .number(Double(n))]), tenantID: tenantID)
        return try await engine.settledMessages(tenantID: tenantID, eventID: receipt.eventId)
    }

    /// Runs scripts/dkim_verify.py over `files` with `records` as the DNS; one result per file.
    static func verify(_ files: [URL], records: [String: String]) throws -> [(file: String, ok: Bool, error: String?)] {
        let folder = TestEngine.temporaryDirectory()
        let dns = folder.appendingPathComponent("dns.json")
        try JSONSerialization.data(withJSONObject: records).write(to: dns)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestEngine.repositoryRoot.appendingPathComponent("scripts/dkim_verify.py").path, "--dns", dns.path] + files.map(\.path)
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let file = object["file"] as? String else {
                return nil
            }
            return (file, object["ok"] as? Bool ?? false, object["error"] as? String)
        }
    }

    /// The DKIM records of `GET /v1/settings/email/dns`, as name → TXT value.
    static func dkimRecords(_ engine: HeraldEngine, tenantID: String) async throws -> [String: String] {
        let dns = try await engine.emailDNSRecords(tenantID: tenantID)
        return Dictionary(dns.records.filter { $0.purpose == "dkim" }.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
    }

    static func spooled(_ server: SMTPTestServer) throws -> [URL] {
        try server.envelopes().map { server.spool.appendingPathComponent($0.file) }
    }

    @Test(arguments: [DKIMAlgorithm.rsaSHA256, .ed25519SHA256])
    func everyEmailVerifiesWithDkimpyAgainstThePrintedRecordAndARotatedKeyUnderItsNewSelector(_ algorithm: DKIMAlgorithm) async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine(smtpPort: server.port, inbound: false)
        let tenantID = try await Self.tenant(engine, count: 5)
        let stored = try await engine.putEmailSettings(
            tenantID: tenantID,
            JSONCoding.decoder.decode(
                EmailSettings.self, from: Data(#"{"dkim": {"selector": "s2026", "generate": true, "algorithm": "\#(algorithm.rawValue)"}}"#.utf8)))
        #expect(stored.redacted.dkim?.keys.first?.privateKey == DKIMSettings.redactedKey, "the private key is never shown again")
        try await engine.whileRunning {
            _ = try await Self.send(engine, tenantID: tenantID, to: (0..<5).map { "s\($0)" })
            #expect(try await server.waitForMessages(5))
            let records = try await Self.dkimRecords(engine, tenantID: tenantID)
            #expect(records.keys.sorted() == ["s2026._domainkey.maplecourt.example"])
            let first = try Self.verify(try Self.spooled(server), records: records)
            #expect(first.count == 5 && first.allSatisfy(\.ok), "\(first)")

            // A byte altered in transit fails.
            let original = try Self.spooled(server)[0]
            var bytes = try Data(contentsOf: original)
            let body = try #require(bytes.range(of: Data("\r\n\r\n".utf8))).upperBound
            bytes[body + 10] = bytes[body + 10] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
            let altered = TestEngine.temporaryDirectory().appendingPathComponent("altered.eml")
            try bytes.write(to: altered)
            #expect(try Self.verify([altered], records: records).first?.ok == false)

            // Rotation: the next key is added and published beside the old one, then signs.
            var rotated = try await engine.emailSettings(tenantID: tenantID).redacted
            rotated.dkim?.keys.append(DKIMKeySettings(selector: "s2027", algorithm: algorithm, generate: true))
            rotated.dkim?.selector = "s2027"
            try await engine.putEmailSettings(tenantID: tenantID, rotated)
            let both = try await Self.dkimRecords(engine, tenantID: tenantID)
            #expect(both.keys.sorted() == ["s2026._domainkey.maplecourt.example", "s2027._domainkey.maplecourt.example"])
            #expect(both["s2026._domainkey.maplecourt.example"] == records["s2026._domainkey.maplecourt.example"], "the old key is kept")
            _ = try await Self.send(engine, tenantID: tenantID, to: ["s0"], n: 2)
            #expect(try await server.waitForMessages(6))
            let newest = try #require(try Self.spooled(server).last)
            #expect(String(decoding: try Data(contentsOf: newest), as: UTF8.self).contains("s=s2027"))
            #expect(try Self.verify([newest], records: both).first?.ok == true)
            #expect(try Self.verify([newest], records: records).first?.ok == false, "the new selector's record is needed")
        }
    }

    @Test func aBadKeyIsRefusedNamingItsFieldAndNeverEchoed() async throws {
        let engine = try await Self.engine(smtpPort: 1, inbound: false)
        let (tenant, _) = try await engine.createTenant(name: "Keys")
        let secret = "-----BEGIN PRIVATE KEY-----\nTUlJQ2VRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NBbU13Z2dKZkFnRUFBb0dC\n-----END PRIVATE KEY-----"
        var settings = EmailSettings()
        settings.dkim = DKIMSettings(selector: "s1", keys: [DKIMKeySettings(selector: "s1", privateKey: secret)])
        await #expect {
            try await engine.putEmailSettings(tenantID: tenant.id, settings)
        } throws: { error in
            let text = "\(error)"
            return text.contains("dkim.keys[0].private_key") && !text.contains("TUlJQ2VR")
        }
        var selector = EmailSettings()
        selector.dkim = DKIMSettings(selector: "bad selector", keys: [DKIMKeySettings(selector: "bad selector", generate: true)])
        await #expect {
            try await engine.putEmailSettings(tenantID: tenant.id, selector)
        } throws: { "\($0)".contains("dkim.selector") }
    }

    // MARK: bounces and complaints

    /// A delivery status notification (RFC 3464) for `recipient`, as a receiving MTA writes one.
    static func dsn(recipient: String, status: String, action: String = "failed", diagnostic: String) -> [UInt8] {
        let lines = [
            "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)",
            "To: bounces@herald.test",
            "Subject: Undelivered Mail Returned to Sender",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B1\"",
            "",
            "--B1",
            "Content-Type: text/plain",
            "",
            "I'm sorry to have to inform you that your message could not be delivered.",
            "",
            "--B1",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; mx.example.com",
            "",
            "Final-Recipient: rfc822; \(recipient)",
            "Action: \(action)",
            "Status: \(status)",
            "Diagnostic-Code: smtp; \(diagnostic)",
            "",
            "--B1",
            "Content-Type: text/rfc822-headers",
            "",
            "Subject: Notice 1",
            "",
            "--B1--",
            "",
        ]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// An ARF complaint (RFC 5965) about an email to `recipient`.
    static func complaint(recipient: String) -> [UInt8] {
        let lines = [
            "From: feedback@mailbox.example",
            "To: bounces@herald.test",
            "Subject: complaint about message",
            "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=feedback-report; boundary=\"F1\"",
            "",
            "--F1",
            "Content-Type: text/plain",
            "",
            "This is an email abuse report.",
            "",
            "--F1",
            "Content-Type: message/feedback-report",
            "",
            "Feedback-Type: abuse",
            "User-Agent: SomeMailbox/1.0",
            "Version: 1",
            "Original-Rcpt-To: \(recipient)",
            "",
            "--F1",
            "Content-Type: text/rfc822-headers",
            "",
            "Subject: Notice 1",
            "",
            "--F1--",
            "",
        ]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// Sends `report` to the listener for `returnPath` with Herald's own SMTP client.
    static func report(_ report: [UInt8], to returnPath: String, port: Int) async -> EmailTester.Result {
        let email = OutboundEmail(sender: "", recipient: returnPath, messageID: "report-\(UUID().uuidString)@mx.example.com", bytes: report)
        return await EmailTester(outboxDirectory: TestEngine.temporaryDirectory()).send(
            email, server: SMTPServerConfiguration(host: "127.0.0.1", port: port, security: .none, timeoutSeconds: 60))
    }

    /// The return path aiosmtpd saw for the email to `address`.
    static func returnPath(_ server: SMTPTestServer, to address: String) throws -> String {
        try #require(try server.envelopes().last { $0.rcptTos.contains(address) }).mailFrom
    }

    @Test(arguments: StoreBackend.available)
    func bouncesAndComplaintsAtTheListenerSuppressUntilLifted(_ backend: StoreBackend) async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        let engine = try await Self.engine(smtpPort: server.port, backend: backend)
        let tenantID = try await Self.tenant(engine, count: 4)
        _ = try await engine.putWebhookSettings(
            tenantID: tenantID,
            WebhookSettings(statusEndpoints: [
                WebhookEndpoint(url: receiver.url("/feedback"), secrets: [WebhookFixtures.secret], events: [.bounced, .complained])
            ]))
        try await engine.whileRunning {
            let inbound = try #require(engine.inboundMail)
            let port = try await inbound.boundPort()
            let sent = try await Self.send(engine, tenantID: tenantID, to: ["s0", "s1", "s2", "s3"])
            #expect(sent.allSatisfy { $0.0.status == .sent })
            let verp0 = try Self.returnPath(server, to: "user0@example.com")
            #expect(verp0.hasPrefix("bounces+") && verp0.hasSuffix("@\(Self.bounceDomain)"), "\(verp0)")

            // A hard bounce suppresses the address: the next email is suppressed with reason `bounced`.
            let hard = await Self.report(
                Self.dsn(recipient: "user0@example.com", status: "5.1.1", diagnostic: "550 5.1.1 user unknown"), to: verp0, port: port)
            #expect(hard.outcome == .accepted, "\(hard.detail)")
            let entries = try await engine.suppressions(tenantID: tenantID, after: nil, limit: 10).items
            #expect(entries.map(\.address) == ["user0@example.com"] && entries.first?.reason == .bounced)
            let message0 = try #require(sent.first { $0.0.subscriberId == "s0" }?.0)
            #expect(entries.first?.messageID == message0.id)
            let feedback = try await engine.emailFeedback(tenantID: tenantID, messageID: message0.id)
            #expect(feedback.map(\.kind) == [.hardBounce] && feedback.first?.status == "5.1.1")

            // A complaint: `complained`.
            let verp1 = try Self.returnPath(server, to: "user1@example.com")
            #expect(await Self.report(Self.complaint(recipient: "user1@example.com"), to: verp1, port: port).outcome == .accepted)

            // A soft bounce does not suppress until the threshold (3 by default).
            let verp2 = try Self.returnPath(server, to: "user2@example.com")
            let soft = Self.dsn(recipient: "user2@example.com", status: "4.2.2", action: "delayed", diagnostic: "452 4.2.2 mailbox full")
            #expect(await Self.report(soft, to: verp2, port: port).outcome == .accepted)
            #expect(try await engine.suppressions(tenantID: tenantID, after: nil, limit: 10).items.count == 2)

            // A forged or altered VERP address, and any other recipient, are refused: the listener never relays.
            let forged = verp0.replacingOccurrences(of: "bounces+", with: "bounces+9")
            #expect(await Self.report(soft, to: forged, port: port).outcome == .permanentFailure)
            #expect(await Self.report(soft, to: "postmaster@example.com", port: port).outcome == .permanentFailure)
            #expect(await Self.report(soft, to: "user3@\(Self.bounceDomain)", port: port).outcome == .permanentFailure)

            let second = try await Self.send(engine, tenantID: tenantID, to: ["s0", "s1", "s2"], n: 2)
            let byID = Dictionary(second.map { ($0.0.subscriberId, $0.0) }, uniquingKeysWith: { first, _ in first })
            #expect(byID["s0"]?.status == .suppressed && byID["s0"]?.reason == "bounced")
            #expect(byID["s1"]?.status == .suppressed && byID["s1"]?.reason == "complained")
            #expect(byID["s2"]?.status == .sent)

            // Two more soft bounces reach the threshold.
            for _ in 0..<2 {
                let answer = await Self.report(soft, to: verp2, port: port)
                #expect(answer.outcome == .accepted, "\(answer.detail)")
            }
            #expect(try await engine.suppressions(tenantID: tenantID, after: nil, limit: 10).items.map(\.address).contains("user2@example.com"))

            // Lifting lets the next email through.
            try await engine.liftSuppression(tenantID: tenantID, address: "USER0@example.com")
            let third = try await Self.send(engine, tenantID: tenantID, to: ["s0"], n: 3)
            #expect(third.first?.0.status == .sent)

            // Status endpoints hear of each report, signed: one hard and three soft bounces, one complaint.
            #expect(try await receiver.wait { $0.count >= 5 })
            let announced = try receiver.deliveries(to: "/feedback").compactMap { try? JSONValue.parse($0.body) }
            let types = announced.compactMap { $0["type"]?.stringValue }
            #expect(types.filter { $0 == "message.bounced" }.count == 4 && types.filter { $0 == "message.complained" }.count == 1)
            #expect(try receiver.deliveries(to: "/feedback").allSatisfy(\.verified))
            let complained = try #require(announced.first { $0["type"] == "message.complained" })
            #expect(complained["data"]?["address"] == "user1@example.com" && complained["data"]?["suppressed"] == true)

            let stats = try await engine.stats(tenantID: tenantID, window: 3600)
            #expect(stats.emailFeedback.hardBounces == 1 && stats.emailFeedback.softBounces == 3 && stats.emailFeedback.complained == 1)
        }
    }

    @Test func aCriticalEmailGoesToASuppressedAddressOnlyWhenTheTenantSaysSo() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine(smtpPort: server.port, inbound: false)
        let tenantID = try await Self.tenant(engine, count: 1)
        var critical = EmailDeliveryTests.notice
        critical.key = "alarm"
        critical.priority = .critical
        try await engine.putEventType(tenantID: tenantID, critical)
        try await engine.addSuppression(tenantID: tenantID, NewSuppression(address: "user0@example.com"))
        @Sendable func alarm(_ n: Int) async throws -> Message? {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "alarm", recipients: [.subscriber("s0")], payload: ["n": .number(Double(n))]), tenantID: tenantID)
            return try await engine.settledMessages(tenantID: tenantID, eventID: receipt.eventId).first?.0
        }
        try await engine.whileRunning {
            let held = try await alarm(1)
            #expect(held?.status == .suppressed && held?.reason == "suppression_list")
            var settings = try await engine.emailSettings(tenantID: tenantID)
            settings.sendCriticalToSuppressed = true
            try await engine.putEmailSettings(tenantID: tenantID, settings)
            engine.emailChannel?.settingsChanged(tenantID: tenantID)
            #expect(try await alarm(2)?.status == .sent)
        }
    }

    @Test func theSuppressionAndDNSRoutesAnswerAsDocumented() async throws {
        let engine = try await Self.engine(smtpPort: 1)
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Routes")
            let bad = try await api.send(.post, "/v1/suppressions", auth: key, json: ["address": "not an address"])
            #expect(bad.status == .unprocessableContent && bad.text.contains("address"))
            let unknown = try await api.send(.post, "/v1/suppressions", auth: key, json: ["address": "a@example.com", "reasn": "manual"])
            #expect(unknown.status == .unprocessableContent && unknown.text.contains("reasn"))
            let added = try await api.send(.post, "/v1/suppressions", auth: key, json: ["address": "A@Example.com", "detail": "asked by phone"])
            #expect(added.status == .created && added["address"] == "a@example.com" && added["reason"] == "manual")
            let listed = try await api.send(.get, "/v1/suppressions", auth: key)
            #expect(listed["data"]?.arrayElements.count == 1)
            #expect(try await api.send(.delete, "/v1/suppressions/a%40example.com", auth: key).status == .noContent)
            #expect(try await api.send(.delete, "/v1/suppressions/a%40example.com", auth: key).status == .notFound)
            let put = try await api.send(
                .put, "/v1/settings/email", auth: key, json: ["dkim": ["selector": "k1", "generate": true], "bounce_domain": "b.example.com"])
            #expect(put.status == .ok, "\(put.text)")
            #expect(put["dkim"]?["keys"]?.arrayElements.first?["private_key"] == "********")
            #expect(put.text.contains("BEGIN") == false, "the private key never leaves")
            let dns = try await api.send(.get, "/v1/settings/email/dns", auth: key)
            let purposes = dns["records"]?.arrayElements.compactMap { $0["purpose"]?.stringValue } ?? []
            #expect(purposes == ["dkim", "spf", "dmarc", "return_path", "return_path", "spf"], "\(dns.text)")
            let exchange = dns["records"]?.arrayElements.filter { $0["purpose"] == "return_path" }.map { "\($0["type"]?.stringValue ?? "") \($0["value"]?.stringValue ?? "")" }
            #expect(exchange == ["MX 10 inbound.b.example.com.", "A 127.0.0.1"], "an MX names a host, and the host has the address")
            #expect(dns["return_path_domain"] == "b.example.com")
            // Sent back as read, the stored key is kept.
            let again = try await api.send(.put, "/v1/settings/email", auth: key, raw: put.text)
            #expect(again.status == .ok && again["dkim"]?["keys"]?.arrayElements.first?["public_key"]
                == put["dkim"]?["keys"]?.arrayElements.first?["public_key"])
        }
    }
}
