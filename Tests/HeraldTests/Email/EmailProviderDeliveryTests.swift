import Foundation
import Herald
import Testing

/// Email through the provider APIs end to end: Herald's dispatcher sending to scripts/email_api_test_server.py,
/// which checks each provider's authentication (SES's Signature V4 recomputed by botocore) and wire format and
/// answers as the service does.
@Suite("Email through SES, SendGrid, Postmark and Mailgun APIs", .serialized)
struct EmailProviderDeliveryTests {
    static func engine() async throws -> HeraldEngine {
        try await TestEngine.make { configuration in
            configuration.email.fromAddress = "notices@herald.test"
            configuration.outbound.allowPrivateNetworks = true
            configuration.dispatch.batchSize = 200
        }
    }

    @Test(
        "2,000 emails through each provider arrive once each; SES and Mailgun carry Herald's DKIM signature intact",
        arguments: ["ses", "sendgrid", "postmark", "mailgun"])
    func twoThousandEmailsArriveOnceEach(_ provider: String) async throws {
        let server = try await EmailAPITestServer.start()
        defer { server.stop() }
        let count = 2_000
        let engine = try await Self.engine()
        let tenantID = try await EmailDeliveryTests.tenant(engine, count: count)
        var settings = try JSONDecoder().decode(EmailSettings.self, from: Data(#"{"dkim": {"selector": "s1", "generate": true}}"#.utf8))
        settings.fromAddress = "notices@maple.example"
        settings.transports = [server.link(provider)]
        try await engine.putEmailSettings(tenantID: tenantID, settings)
        try await engine.whileRunning {
            let eventID = try await EmailDeliveryTests.triggerAll(engine, tenantID: tenantID)
            #expect(try await server.waitForMessages(count, provider: provider, timeout: 120))
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)["sent"] == count
                })
        }
        let accepted = try server.messages(provider: provider)
        let recipients = accepted.flatMap(\.recipients)
        #expect(recipients.count == count, "each email once")
        #expect(Set(recipients) == Set((0..<count).map { "user\($0)@example.com" }), "every subscriber, none twice")
        #expect(Set(accepted.compactMap { $0.custom?["herald_message"] }).count == count, "each tagged with its own message")
        #expect(accepted.allSatisfy { $0.custom?["herald_tenant"] == tenantID })
        if provider == "ses" || provider == "mailgun" {
            // Verified by dkimpy, over the bytes the provider received, against the record Herald prints for DNS.
            let folder = TestEngine.temporaryDirectory()
            let files = try accepted.prefix(200).enumerated().map { index, message in
                let file = folder.appendingPathComponent("\(index).eml")
                try Data((message.raw_mime ?? "").utf8).write(to: file)
                return file
            }
            let results = try DeliverabilityTests.verify(files, records: try await DeliverabilityTests.dkimRecords(engine, tenantID: tenantID))
            #expect(results.count == files.count)
            let failures = results.filter { !$0.ok }
            #expect(failures.isEmpty, "\(failures.prefix(3))")
        }
    }

    @Test("a provider outage fails over to the next link (another provider, then SMTP) without spending attempts")
    func outageFailsOver() async throws {
        let server = try await EmailAPITestServer.start()
        defer { server.stop() }
        let smtp = try await SMTPTestServer.start()
        defer { smtp.stop() }
        let count = 100
        let engine = try await Self.engine()
        let tenantID = try await EmailDeliveryTests.tenant(engine, count: count)
        var settings = EmailSettings(fromAddress: "notices@maple.example")
        settings.transports = [server.link("ses"), server.link("postmark"), .smtp(EmailDeliveryTests.smtp(port: smtp.port))]
        try await engine.putEmailSettings(tenantID: tenantID, settings)
        try await server.fail(prefix: EmailAPITestServer.path("ses"), status: 503)
        try await engine.whileRunning {
            let first = try await EmailDeliveryTests.triggerAll(engine, tenantID: tenantID)
            #expect(try await server.waitForMessages(count, provider: "postmark", timeout: 60))
            #expect(
                try await engine.eventually(timeout: 30) { try await engine.store.messageCounts(tenantID: tenantID, eventID: first)["sent"] == count })
            let page = try await engine.messages(tenantID: tenantID, MessageQuery(eventID: first, limit: 20))
            for message in page.items {
                let (_, attempts) = try await engine.message(tenantID: tenantID, id: message.id)
                #expect(message.attempts == 1, "an unavailable provider costs no attempt")
                #expect(attempts.last?.detail?.contains("via fallback postmark") == true, "\(attempts.last?.detail ?? "")")
            }
            // Both providers down: the SMTP server at the end of the chain takes them.
            try await server.fail(prefix: EmailAPITestServer.path("postmark"), status: 500)
            let second = try await EmailDeliveryTests.triggerAll(engine, tenantID: tenantID, n: 2)
            #expect(try await smtp.waitForMessages(count, timeout: 60))
            #expect(
                try await engine.eventually(timeout: 30) { try await engine.store.messageCounts(tenantID: tenantID, eventID: second)["sent"] == count })
        }
        #expect(try server.messages(provider: "ses").isEmpty)
        #expect(try server.messages(provider: "postmark").count == count, "each email once, through the first link that worked")
        let report = try smtp.mailbox(countHeader: "X-Herald-Message")
        #expect(report.count == count && report.duplicateXHeaderValues.isEmpty)
    }

    @Test("a refused email fails for good at the provider that refused it, and is not handed on")
    func refusalIsTheEmails() async throws {
        let server = try await EmailAPITestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let tenantID = try await EmailDeliveryTests.tenant(engine, count: 3) { $0 == 1 ? "reject" : "user\($0)" }
        var settings = EmailSettings(fromAddress: "notices@maple.example")
        settings.transports = [server.link("sendgrid"), server.link("mailgun")]
        try await engine.putEmailSettings(tenantID: tenantID, settings)
        try await engine.whileRunning {
            let eventID = try await EmailDeliveryTests.triggerAll(engine, tenantID: tenantID)
            #expect(
                try await engine.eventually(timeout: 30) {
                    let counts = try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)
                    return counts["sent"] == 2 && counts["failed"] == 1
                })
        }
        #expect(try server.messages(provider: "sendgrid").count == 2)
        #expect(try server.messages(provider: "mailgun").isEmpty, "a refusal is not retried through another provider")
    }

    @Test("a test send goes through the chain's first link, a provider API too")
    func testSendThroughProvider() async throws {
        let server = try await EmailAPITestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let tenantID = try await EmailDeliveryTests.tenant(engine, count: 1)
        var settings = EmailSettings(fromAddress: "notices@maple.example")
        settings.transports = [server.link("postmark")]
        try await engine.putEmailSettings(tenantID: tenantID, settings)
        let result = try await engine.sendTestEmail(
            tenantID: tenantID, key: "notice", address: nil, subscriberID: "s0", payload: [:], locale: nil)
        #expect(result.outcome == .accepted, "\(result.detail)")
        #expect(result.transport.hasPrefix("postmark "))
        #expect(try server.messages(provider: "postmark").flatMap(\.recipients) == ["user0@example.com"])
    }

    @Test("a batch's critical email is the provider's first request, then high, medium and low (batch order within each)")
    func criticalGoesFirst() async throws {
        let server = try await EmailAPITestServer.start()
        defer { server.stop() }
        let http = OutboundHTTPClient(policy: DestinationPolicy(allowPrivateNetworks: true))
        let link = try #require(ProviderTransport(link: server.link("mailgun"), http: http, circuits: CircuitBreakers()))
        // One request at a time, so the order the server saw is the order they were sent in.
        let transport = ProviderTransport(client: link.client, http: http, circuits: CircuitBreakers(), concurrency: 1)
        func email(_ address: String, _ priority: Priority) throws -> OutboundEmail {
            var email = try EmailSecurityTests.testEmail(to: address)
            email.priority = priority
            return email
        }
        let batch = [
            try email("bulk0@example.com", .low), try email("bulk1@example.com", .medium), try email("soon@example.com", .high),
            try email("bulk2@example.com", .low), try email("alert@example.com", .critical),
        ]
        let outcomes = await transport.send(batch)
        #expect(outcomes.allSatisfy { if case .accepted = $0 { true } else { false } }, "\(outcomes)")
        let order = try server.messages(provider: "mailgun").sorted { $0.seq < $1.seq }.flatMap(\.recipients)
        #expect(order == ["alert@example.com", "soon@example.com", "bulk1@example.com", "bulk0@example.com", "bulk2@example.com"])
    }

    @Test("a tenant's provider endpoint on a private address is refused when saved")
    func privateEndpointRefused() async throws {
        let engine = try await TestEngine.make()
        let (tenant, _) = try await engine.createTenant(name: "Maple Court")
        var settings = EmailSettings()
        settings.transports = [.sendgrid(SendGridConfiguration(apiKey: "k", connection: EmailProviderConnection(endpoint: "http://169.254.169.254/latest")))]
        await #expect {
            try await engine.putEmailSettings(tenantID: tenant.id, settings)
        } throws: { "\($0)".contains("transports[0].sendgrid.endpoint") }
    }
}
