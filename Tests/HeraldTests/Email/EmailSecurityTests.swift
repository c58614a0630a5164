import Foundation
import HTTPTypes
import Herald
import Testing

/// TLS and authentication against a real server, and the unsubscribe link of a real email.
@Suite("Email TLS, AUTH and unsubscribe")
struct EmailSecurityTests {
    static func testEmail(to address: String = "ana@example.com") throws -> OutboundEmail {
        let message = EmailMessage(
            from: try EmailAddress("notices@herald.test", name: "Herald"), to: [try EmailAddress(address)], subject: "TLS check",
            html: "<p>Hello</p>",
            messageID: EmailMessage.makeMessageID(messageKey: "t\(UUID().uuidString.prefix(8))", eventID: "ev", domain: "herald.test"))
        return OutboundEmail(sender: "notices@herald.test", recipient: address, messageID: message.messageID, bytes: try MIMEEncoder.encode(message))
    }

    static let tester = EmailTester(heloName: "herald.test", outboxDirectory: TestEngine.temporaryDirectory())

    @Test func startTLSWithASelfSignedCertificateIsRefusedByDefaultAndAcceptedWhenTrusted() async throws {
        let certificate = try TestCertificate.make()
        let server = try await SMTPTestServer.start(.init(startTLS: certificate, requireStartTLS: true))
        defer { server.stop() }
        var configuration = SMTPServerConfiguration(host: "localhost", port: server.port, security: .starttls, timeoutSeconds: 10)

        let refused = await Self.tester.send(try Self.testEmail(), server: configuration)
        #expect(refused.outcome != .accepted)
        #expect(refused.detail.contains("TLS handshake failed"), "\(refused.detail)")
        #expect(refused.transcript.contains("C: STARTTLS"))
        #expect(server.receivedCount() == 0)

        configuration.trustedCertificatesPEM = try String(contentsOfFile: certificate.certPath, encoding: .utf8)
        let accepted = await Self.tester.send(try Self.testEmail(), server: configuration)
        #expect(accepted.outcome == .accepted, "\(accepted.detail)\n\(accepted.transcript.joined(separator: "\n"))")
        #expect(try server.envelopes().map(\.tls) == [true])

        // Through the dispatcher and the pool too.
        let engine = try await TestEngine.make { $0.email.smtp = configuration }
        let (tenant, ids) = try await engine.tenantWithSubscribers(3)
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(
                    type: "newsletter", recipients: ids.map(Recipient.subscriber),
                    payload: ["issue_title": "Spring", "summary": "News", "url": "https://example.com/n"]),
                tenantID: tenant.id)
            #expect(
                try await engine.eventually(timeout: 20) {
                    try await engine.store.messageCounts(tenantID: tenant.id, eventID: receipt.eventId)["sent"] == 3
                })
        }
        // The server may record the last envelope just after its 250 reply reached us.
        #expect(try await engine.eventually { server.receivedCount() >= 4 })
        #expect(try server.envelopes().allSatisfy(\.tls) && server.receivedCount() == 4, "\(server.receivedCount()) envelopes")
    }

    @Test func implicitTLSIsVerifiedToo() async throws {
        let certificate = try TestCertificate.make()
        let server = try await SMTPTestServer.start(.init(implicitTLS: certificate))
        defer { server.stop() }
        var configuration = SMTPServerConfiguration(host: "localhost", port: server.port, security: .tls, timeoutSeconds: 10)
        #expect(await Self.tester.send(try Self.testEmail(), server: configuration).outcome != .accepted)
        configuration.trustedCertificatesPEM = try String(contentsOfFile: certificate.certPath, encoding: .utf8)
        let result = await Self.tester.send(try Self.testEmail(), server: configuration)
        #expect(result.outcome == .accepted, "\(result.detail)")
        #expect(try server.envelopes().map(\.tls) == [true])
    }

    @Test(arguments: ["PLAIN", "LOGIN"])
    func authenticatesWithTheMechanismTheServerOffers(_ mechanism: String) async throws {
        let other = mechanism == "PLAIN" ? "LOGIN" : "PLAIN"
        let server = try await SMTPTestServer.start(
            .init(
                credentials: .init(user: "herald", password: "s3cret-pw"), authRequired: true, allowPlainAuth: true,
                extraArguments: ["--auth-exclude", other]))
        defer { server.stop() }
        var configuration = SMTPServerConfiguration(host: "127.0.0.1", port: server.port, security: .none, timeoutSeconds: 10)

        let anonymous = await Self.tester.send(try Self.testEmail(), server: configuration)
        #expect(anonymous.outcome == .permanentFailure && anonymous.detail.contains("530"), "\(anonymous.detail)")

        configuration.username = "herald"
        configuration.password = "s3cret-pw"
        let result = await Self.tester.send(try Self.testEmail(), server: configuration)
        #expect(result.outcome == .accepted, "\(result.detail)")
        #expect(result.transcript.contains { $0.hasPrefix("C: AUTH \(mechanism)") })
        #expect(!result.transcript.joined().contains("s3cret-pw"), "credentials never appear in a transcript")
        #expect(try server.envelopes().map(\.auth) == [true])

        configuration.password = "wrong-pw"
        let refused = await Self.tester.send(try Self.testEmail(), server: configuration)
        #expect(refused.outcome == .permanentFailure && refused.detail.contains("535"), "\(refused.detail)")
        #expect(!refused.detail.contains("wrong-pw") && !refused.transcript.joined().contains("wrong-pw"))
    }

    @Test func authAfterSTARTTLS() async throws {
        let certificate = try TestCertificate.make()
        let server = try await SMTPTestServer.start(
            .init(credentials: .init(user: "herald", password: "pw"), authRequired: true, startTLS: certificate, requireStartTLS: true))
        defer { server.stop() }
        let configuration = SMTPServerConfiguration(
            host: "localhost", port: server.port, security: .starttls, username: "herald", password: "pw",
            trustedCertificatesPEM: try String(contentsOfFile: certificate.certPath, encoding: .utf8), timeoutSeconds: 10)
        let result = await Self.tester.send(try Self.testEmail(), server: configuration)
        #expect(result.outcome == .accepted, "\(result.detail)")
        #expect(try server.envelopes().map { [$0.tls, $0.auth] } == [[true, true]])
    }

    /// The whole loop: the link in a real email's List-Unsubscribe header, posted as a mail client does.
    @Test func theUnsubscribeLinkInARealEmailTurnsThatEmailOff() async throws {
        let outbox = TestEngine.temporaryDirectory()
        let engine = try await TestEngine.make { $0.email.outboxDirectory = outbox.path }
        let (tenant, _) = try await engine.createTenant(name: "Maple Court")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana", name: "Ana", email: "ana@example.com"))
        let newsletter = Trigger(
            type: "newsletter", recipients: [.subscriber("ana")],
            payload: ["issue_title": "Spring", "summary": "News", "url": "https://example.com/n"])
        let alert = Trigger(type: "emergency_alert", recipients: [.subscriber("ana")], payload: ["title": "Fire drill", "message": "Now"])
        try await engine.testAPI { api in
            let (first, _) = try await engine.trigger(newsletter, tenantID: tenant.id)
            #expect(try await engine.eventually { try await engine.store.messageCounts(tenantID: tenant.id, eventID: first.eventId)["sent"] == 1 })
            let files = try FileManager.default.contentsOfDirectory(at: outbox, includingPropertiesForKeys: nil).filter { $0.pathExtension == "eml" }
            #expect(files.count == 1)
            let text = try String(contentsOf: files[0], encoding: .utf8)
            #expect(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"))
            let link = try #require(text.firstMatch(of: /<(https?:\/\/[^>]+\/unsubscribe\?token=[^>]+)>/)?.1)
            let path = String(link[link.range(of: "/unsubscribe")!.lowerBound...])
            var headers = HTTPFields()
            headers[.contentType] = "application/x-www-form-urlencoded"
            let reply = try await api.send(.post, path, raw: "List-Unsubscribe=One-Click", headers: headers)
            #expect(reply.status == .ok)

            let (second, _) = try await engine.trigger(newsletter, tenantID: tenant.id)
            let messages = try await engine.messages(tenantID: tenant.id, MessageQuery(eventID: second.eventId, channel: .email, limit: 5))
            #expect(messages.items.map(\.status) == [.suppressed] && messages.items.first?.reason == "unsubscribed")

            // Critical email still goes, and carries no unsubscribe.
            let (third, _) = try await engine.trigger(alert, tenantID: tenant.id)
            #expect(try await engine.eventually { try await engine.store.messageCounts(tenantID: tenant.id, eventID: third.eventId)["sent"] == 1 })
            let critical = try FileManager.default.contentsOfDirectory(at: outbox, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "eml" && $0.lastPathComponent.contains(third.eventId.replacingOccurrences(of: "_", with: "_")) }
            #expect(critical.count == 1)
            #expect(try !String(contentsOf: critical[0], encoding: .utf8).contains("List-Unsubscribe"))
        }
    }
}
