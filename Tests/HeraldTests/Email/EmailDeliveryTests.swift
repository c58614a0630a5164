import Foundation
import Herald
import Testing

/// The email channel end to end: Herald's dispatcher and SMTP client against real SMTP servers
/// (aiosmtpd through scripts/smtp_test_server.py, and Postfix's smtp-sink), every received message
/// parsed with Python's `email` package.
@Suite("Email delivery over real SMTP servers", .serialized)
struct EmailDeliveryTests {
    /// A tenant event type with only an email channel and no text template, so the text part is generated.
    static let notice = EventType(
        key: "notice", name: "Notice", priority: .medium, channels: [.email],
        parameters: ["n": ParameterSpec(type: .integer)],
        templates: [
            .email: [
                "en": [
                    "subject": "Notice {{n}} for {{subscriber.name}} — café",
                    "html": "<p>Hello {{subscriber.name}},</p><p>This is notice <b>{{n}}</b>. Ça va? 👋</p>",
                ]
            ]
        ])

    static func smtp(port: Int, maxConnections: Int = 4) -> SMTPServerConfiguration {
        SMTPServerConfiguration(host: "127.0.0.1", port: port, security: .none, maxConnections: maxConnections, timeoutSeconds: 10)
    }

    static func engine(smtp: SMTPServerConfiguration, _ configure: @escaping (inout HeraldConfiguration) -> Void = { _ in }) async throws
        -> HeraldEngine
    {
        try await TestEngine.make { configuration in
            configuration.email.smtp = smtp
            configuration.email.fromAddress = "notices@herald.test"
            configuration.dispatch.batchSize = 200
            configuration.dispatch.leaseSeconds = 30
            configure(&configuration)
        }
    }

    /// A tenant with the `notice` type and `count` subscribers `<prefix><i>@example.com` in topic `all`.
    static func tenant(_ engine: HeraldEngine, count: Int, localPart: (Int) -> String = { "user\($0)" }) async throws -> String {
        let (tenant, _) = try await engine.createTenant(name: "Maple Court")
        try await engine.putEventType(tenantID: tenant.id, notice)
        _ = try await engine.upsertTopic(tenantID: tenant.id, key: "all", name: nil)
        for start in stride(from: 0, to: count, by: 5000) {
            let inputs = (start..<min(count, start + 5000)).map { index in
                SubscriberInput(id: "s\(index)", name: "Résident \(index)", email: "\(localPart(index))@example.com")
            }
            _ = try await engine.upsertSubscribers(tenantID: tenant.id, inputs)
            _ = try await engine.addTopicMembers(tenantID: tenant.id, key: "all", subscriberIDs: inputs.map(\.id))
        }
        return tenant.id
    }

    static func triggerAll(_ engine: HeraldEngine, tenantID: String, n: Int = 1) async throws -> String {
        let (receipt, _) = try await engine.trigger(
            Trigger(type: "notice", recipients: [.topic("all")], payload: ["n": .number(Double(n))]), tenantID: tenantID)
        return receipt.eventId
    }

    static func expectCleanMailbox(_ report: MailboxReport, count: Int) {
        #expect(report.count == count)
        #expect(report.uniqueMessageIds == count)
        #expect(report.duplicateXHeaderValues.isEmpty, "some messages arrived twice: \(report.duplicateXHeaderValues.prefix(5))")
        #expect(report.byXHeader.count == count && report.xHeaderMissing == 0)
        #expect(report.multipartAlternative == count, "every message has non-empty text and HTML parts")
        #expect(report.parseErrors == 0, "\(report.parseErrorSamples.prefix(3))")
        #expect(report.missingHeaders.values.allSatisfy { $0 == 0 }, "\(report.missingHeaders)")
        #expect(report.listUnsubscribe == count && report.listUnsubscribePost == count)
    }

    @Test func tenThousandEmailsToAiosmtpdOverAFewPooledConnections() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let count = 10_000
        let engine = try await Self.engine(smtp: Self.smtp(port: server.port))
        let tenantID = try await Self.tenant(engine, count: count)
        let started = Date()
        let eventID = try await engine.whileRunning {
            let eventID = try await Self.triggerAll(engine, tenantID: tenantID)
            #expect(try await server.waitForMessages(count, timeout: 300))
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)["sent"] == count
                })
            return eventID
        }
        let seconds = Date().timeIntervalSince(started)
        print(
            "aiosmtpd: \(count) emails in \(String(format: "%.1f", seconds)) s (\(Int(Double(count) / seconds))/s) over \(server.connectionCount()) connections"
        )
        #expect(server.connectionCount() <= 4, "the pool reuses at most 4 connections")
        let report = try server.mailbox(countHeader: "X-Herald-Message")
        Self.expectCleanMailbox(report, count: count)
        #expect(!report.subjects.isEmpty && report.subjects.keys.allSatisfy { $0.hasPrefix("Notice 1 for Résident ") && $0.hasSuffix(" — café") })
        let counts = try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)
        #expect(counts["sent"] == count && counts.count == 1)
    }

    @Test func tenThousandEmailsToPostfixSMTPSink() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let count = 10_000
        let engine = try await Self.engine(smtp: Self.smtp(port: sink.port))
        let tenantID = try await Self.tenant(engine, count: count)
        let started = Date()
        try await engine.whileRunning {
            let eventID = try await Self.triggerAll(engine, tenantID: tenantID)
            #expect(try await sink.waitForMessages(count, timeout: 300))
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)["sent"] == count
                })
        }
        let seconds = Date().timeIntervalSince(started)
        let sessions = sink.counters()?.sessions ?? -1
        print("smtp-sink: \(count) emails in \(String(format: "%.1f", seconds)) s (\(Int(Double(count) / seconds))/s) over \(sessions) connections")
        #expect(sessions <= 4)
        Self.expectCleanMailbox(try sink.mailbox(countHeader: "X-Herald-Message"), count: count)
    }

    @Test func transientRecipientsAreRetriedAndPermanentOnesFailWithTheReplyOnOneConnection() async throws {
        let server = try await SMTPTestServer.start(.init(tempfailTimes: 1))
        defer { server.stop() }
        let engine = try await Self.engine(smtp: Self.smtp(port: server.port, maxConnections: 1))
        let kinds = ["ok", "tempfail", "reject"]
        let tenantID = try await Self.tenant(engine, count: 30) { "\(kinds[$0 % 3])\($0)" }
        try await engine.whileRunning {
            let eventID = try await Self.triggerAll(engine, tenantID: tenantID)
            #expect(
                try await engine.eventually(timeout: 30) {
                    let counts = try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)
                    return counts["sent"] == 20 && counts["failed"] == 10
                })
        }
        #expect(server.receivedCount() == 20)
        #expect(server.connectionCount() == 1, "refusals reset the transaction, they do not cost the connection")
        let report = try server.mailbox(countHeader: "X-Herald-Message")
        #expect(report.count == 20 && report.duplicateXHeaderValues.isEmpty)
        #expect(Set(report.rcptTo.keys).allSatisfy { !$0.hasPrefix("reject") })
        // The refused ones end failed with the server's reply; the deferred ones show their 451 first.
        let failed = try await engine.messages(tenantID: tenantID, MessageQuery(status: .failed, limit: 50))
        for message in failed.items {
            let (_, attempts) = try await engine.message(tenantID: tenantID, id: message.id)
            #expect(attempts.count == 1 && attempts[0].detail?.hasPrefix("550 5.1.1") == true)
        }
        let sent = try await engine.messages(tenantID: tenantID, MessageQuery(status: .sent, limit: 50))
        let retried = try await sent.items.asyncFilter { try await engine.message(tenantID: tenantID, id: $0.id).1.count == 2 }
        #expect(retried.count == 10)
    }

    @Test func anSMTPServerThatGoesDownAndComesBackLosesNothingAndDuplicatesNothing() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let count = 3000
        let engine = try await Self.engine(smtp: Self.smtp(port: server.port))
        let tenantID = try await Self.tenant(engine, count: count)
        try await engine.whileRunning {
            let eventID = try await Self.triggerAll(engine, tenantID: tenantID)
            #expect(try await SMTPHarness.eventually(timeout: 60) { server.receivedCount() >= 300 })
            server.stop()
            let atStop = server.receivedCount()
            // HERALD_TEST_SMTP_OUTAGE_SECONDS=60 runs the issue's full minute; the suite's default keeps it short.
            let outage = Double(ProcessInfo.processInfo.environment["HERALD_TEST_SMTP_OUTAGE_SECONDS"] ?? "") ?? 4
            try await Task.sleep(for: .seconds(outage))
            let counts = try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)
            #expect(counts["sent", default: 0] < count, "the outage happened mid-run")
            #expect(counts["failed"] == nil && counts["dead_lettered"] == nil, "an unreachable server fails nothing")
            try await server.restart()
            #expect(try await server.waitForMessages(count, timeout: 120))
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)["sent"] == count
                })
            print("outage: \(atStop) received before the stop, \(count) after the restart")
        }
        let report = try server.mailbox(countHeader: "X-Herald-Message")
        #expect(report.count == count, "nothing lost")
        #expect(report.duplicateXHeaderValues.isEmpty, "nothing sent twice: \(report.duplicateXHeaderValues)")
    }

    @Test func whenTheSMTPServerCannotBeReachedTheFallbackServerTakesEveryEmailWithoutSpendingAttempts() async throws {
        // A port nothing listens on: the primary refuses every connection.
        let gone = try await SMTPTestServer.start()
        let closedPort = gone.port
        gone.stop()
        let fallback = try await SMTPTestServer.start()
        defer { fallback.stop() }
        let count = 200
        let engine = try await Self.engine(smtp: Self.smtp(port: closedPort)) { configuration in
            configuration.email.smtpFallback = Self.smtp(port: fallback.port)
        }
        let tenantID = try await Self.tenant(engine, count: count)
        try await engine.whileRunning {
            let eventID = try await Self.triggerAll(engine, tenantID: tenantID)
            #expect(try await fallback.waitForMessages(count, timeout: 60))
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)["sent"] == count
                })
            let page = try await engine.messages(tenantID: tenantID, MessageQuery(eventID: eventID, limit: 100))
            for message in page.items {
                let (_, attempts) = try await engine.message(tenantID: tenantID, id: message.id)
                let sent = try #require(attempts.last)
                #expect(sent.outcome == .sent)
                #expect(sent.detail?.contains("via fallback smtp://127.0.0.1:\(fallback.port)") == true, "\(sent.detail ?? "")")
                #expect(message.attempts == 1, "a server that cannot be reached costs no attempt")
            }
        }
        let report = try fallback.mailbox(countHeader: "X-Herald-Message")
        #expect(report.count == count)
        #expect(report.duplicateXHeaderValues.isEmpty)
    }
}

extension Array where Element: Sendable {
    func asyncFilter(_ isIncluded: (Element) async throws -> Bool) async rethrows -> [Element] {
        var kept: [Element] = []
        for element in self where try await isIncluded(element) { kept.append(element) }
        return kept
    }
}
