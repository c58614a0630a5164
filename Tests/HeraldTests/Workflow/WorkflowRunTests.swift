import AsyncHTTPClient
import Foundation
import Herald
import HummingbirdWSClient
import Logging
import Synchronization
import Testing
import Yams

/// Workflows through a running engine, with a clock the tests move over the waits.
@Suite("Workflow runs", .timeLimit(.minutes(10)), .dropsPostgresSchemas)
struct WorkflowRunTests {
    /// `in_app → wait 15m until read → email`: the escalation every team asked for.
    static func escalationType(_ key: String = "issue_escalated", priority: Priority = .medium, _ steps: [WorkflowStep]? = nil) throws -> EventType {
        var type = EventType(
            key: key, priority: priority, channels: [.inApp, .email, .sms],
            parameters: ["issue": ParameterSpec(type: .string, required: true), "severity": ParameterSpec(type: .string, required: false)],
            templates: [
                .inApp: ["en": ["title": "Issue {{issue}}", "body": "Issue {{issue}} is yours"]],
                .email: ["en": ["subject": "Issue {{issue}}", "text": "Issue {{issue}} is still unread", "html": "<p>Issue {{issue}} is still unread</p>"]],
                .sms: ["en": ["text": "Issue {{issue}}"]],
            ])
        type.workflow = Workflow(
            steps: try steps ?? [
                WorkflowStep(.send([.inApp], .all)),
                WorkflowStep(.wait(WaitSpec(duration: "15m", until: .read))),
                WorkflowStep(.send([.email], .all), if: try WorkflowCondition(parsing: "subscriber.email != null")),
            ])
        return type
    }

    static func engine(on backend: StoreBackend, _ types: [EventType], clock: TestClock, database: URL? = nil) async throws -> HeraldEngine {
        try await TestEngine.make(on: backend, { $0.eventTypes += types }, database: database, clock: clock.herald)
    }

    @Test("a run sends in-app, waits, and escalates by email only when the in-app message was not read", arguments: StoreBackend.available)
    func escalation(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let engine = try await Self.engine(on: backend, [try Self.escalationType()], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Escalation")
        for id in ["reader", "ignorer"] {
            _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id, email: "\(id)@example.com"))
        }
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "issue_escalated", recipients: [.subscriber("reader"), .subscriber("ignorer")], payload: ["issue": "HR-7"]),
                tenantID: tenant.id)
            #expect(receipt.workflowRuns == 2)
            #expect(
                try await engine.eventually(timeout: 20) {
                    try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId).messages.filter { $0.status == .delivered }.count == 2
                })
            let (_, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: "reader")
            let item = try #require(try await engine.inbox(claims, filter: .all, cursor: nil, limit: 10).items.first)
            _ = try await engine.markRead(claims, messageID: item.id)
            #expect(
                try await engine.eventually(timeout: 20) {
                    try await engine.workflowRuns(tenantID: tenant.id, eventID: receipt.eventId, subscriberID: "reader", cursor: nil, limit: 1)
                        .items.first?.status == .completed
                })
            clock.advance(by: 16 * 60)
            #expect(
                try await engine.eventually(timeout: 20) {
                    let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId)
                    return details.workflow?.counts["completed"] == 2 && details.messages.contains { $0.channel == .email && $0.status == .sent }
                })
            let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId)
            let emails = details.messages.filter { $0.channel == .email }
            #expect(emails.map(\.subscriberId) == ["ignorer"], "only the one who did not read is escalated to")
            let reader = try #require(details.workflow?.runs.first { $0.subscriberId == "reader" })
            #expect(reader.outcome == "read")
            #expect(reader.steps.map(\.status) == ["done", "done", "skipped"])
            #expect(reader.steps[2].reason == "read_before_wait_ended")
            let ignorer = try #require(details.workflow?.runs.first { $0.subscriberId == "ignorer" })
            #expect(ignorer.outcome == "finished")
            #expect(ignorer.steps.map(\.status) == ["done", "done", "done"])
            #expect(ignorer.steps[1].reason == "waited")
            #expect(ignorer.steps[2].messages.map(\.channel) == [.email])
        }
    }

    @Test(
        "10,000 subscribers, in_app → wait 15m until read → email: half read during the wait (inbox API, WebSocket), exactly the other half get one email each",
        arguments: StoreBackend.available)
    func tenThousand(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let count = 10_000
        let engine = try await Self.engine(on: backend, [try Self.escalationType()], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Ten thousand")
        _ = try await engine.upsertTopic(tenantID: tenant.id, key: "staff", name: nil)
        for start in stride(from: 0, to: count, by: 5000) {
            let inputs = (start..<min(count, start + 5000)).map { SubscriberInput(id: "s\($0)", email: "s\($0)@example.com") }
            _ = try await engine.upsertSubscribers(tenantID: tenant.id, inputs)
            _ = try await engine.addTopicMembers(tenantID: tenant.id, key: "staff", subscriberIDs: inputs.map(\.id))
        }
        try await engine.withLiveServer { port in
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "issue_escalated", recipients: [.topic("staff")], payload: ["issue": "HR-10k"]), tenantID: tenant.id)
            let eventID = receipt.eventId
            #expect(
                try await engine.eventually(timeout: 300) {
                    try await engine.eventDetails(tenantID: tenant.id, id: eventID, limit: 1).counts["delivered"] == count
                }, "every in-app message is delivered")
            #expect(try await engine.eventDetails(tenantID: tenant.id, id: eventID, limit: 1).workflow?.counts["waiting"] == count)

            // Even-numbered subscribers read: most through the engine's inbox API, 100 over HTTP, 50 over the WebSocket.
            let readers = stride(from: 0, to: count, by: 2).map { "s\($0)" }
            // Eight readers at a time, as eight people would.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        for (position, subscriber) in readers.enumerated() where position % 8 == lane {
                            try await Self.read(engine, tenantID: tenant.id, subscriber: subscriber, position: position, port: port)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(
                try await engine.eventually(timeout: 120) {
                    try await engine.workflowRunCounts(tenantID: tenant.id, eventID: eventID)["completed.read"] == readers.count
                }, "each read ends its run at once, before the wait is over")
            clock.advance(by: 16 * 60)
            #expect(
                try await engine.eventually(timeout: 300) {
                    let counts = try await engine.workflowRunCounts(tenantID: tenant.id, eventID: eventID)
                    let sent = try await engine.eventDetails(tenantID: tenant.id, id: eventID, limit: 1).counts["sent"] ?? 0
                    return counts["completed"] == count && sent == count / 2
                }, "every run finishes, and half the recipients are emailed")
            var emailed: [String] = []
            var cursor: String?
            repeat {
                let page = try await engine.messages(tenantID: tenant.id, MessageQuery(eventID: eventID, channel: .email, cursor: try Cursor.decode(cursor), limit: 1000))
                emailed += page.items.map(\.subscriberId)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(emailed.count == count / 2, "exactly half get an email")
            #expect(Set(emailed).count == emailed.count, "nobody gets it twice")
            #expect(Set(emailed).isDisjoint(with: readers), "no reader is escalated to")
            let counts = try await engine.workflowRunCounts(tenantID: tenant.id, eventID: eventID)
            #expect(counts["completed.read"] == count / 2)
            #expect(counts["completed.finished"] == count / 2)
            let reader = try #require(try await engine.workflowRuns(tenantID: tenant.id, eventID: eventID, subscriberID: "s0", cursor: nil, limit: 1).items.first)
            #expect(reader.steps.map(\.reason) == [nil, "read_before_wait_ended", "read_before_wait_ended"])
            let other = try #require(try await engine.workflowRuns(tenantID: tenant.id, eventID: eventID, subscriberID: "s1", cursor: nil, limit: 1).items.first)
            #expect(other.steps.map(\.status) == ["done", "done", "done"])
            #expect(other.steps[2].messages.map(\.status) == [.sent])
        }
    }

    /// Reads a subscriber's in-app message: the first 50 over the WebSocket, the next 100 over HTTP, then through the
    /// engine's inbox API (one message, or all).
    static func read(_ engine: HeraldEngine, tenantID: String, subscriber: String, position: Int, port: Int) async throws {
        let (token, claims) = try await engine.claims(tenantID: tenantID, subscriberID: subscriber)
        let item = try #require(try await engine.inbox(claims, filter: .all, cursor: nil, limit: 1).items.first)
        switch position {
        case 0..<50:
            try await readOverWebSocket(port: port, token: token, messageID: item.id)
        case 50..<150:
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/inbox/\(item.id)/read")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 200)
        case 150..<2500:
            _ = try await engine.markRead(claims, messageID: item.id)
        default:
            _ = try await engine.markAllRead(claims)
        }
    }

    /// The subscriber's first inbox item, once the dispatcher has delivered it (a run is waiting as soon as its
    /// first send is planned, before the message reaches the inbox).
    static func firstInboxItem(_ engine: HeraldEngine, _ claims: SubscriberTokens.Claims) async throws -> InboxItem {
        #expect(try await engine.eventually(timeout: 30) { try await !engine.inbox(claims, filter: .all, cursor: nil, limit: 1).items.isEmpty })
        return try #require(try await engine.inbox(claims, filter: .all, cursor: nil, limit: 1).items.first)
    }

    /// Sends the WebSocket `read` command for one message and waits for its acknowledgement.
    static func readOverWebSocket(port: Int, token: String, messageID: String) async throws {
        let acknowledged = Mutex(false)
        try await WebSocketClient.connect(url: "ws://localhost:\(port)/v1/inbox/ws?token=\(token)", logger: Logger(label: "ws")) { inbound, outbound, _ in
            var iterator = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
            try await outbound.write(.text(#"{"type":"read","message_id":"\#(messageID)"}"#))
            while let message = try await iterator.next() {
                guard case .text(let text) = message, let json = try? JSONValue.parse(text) else { continue }
                if json["type"]?.stringValue == "message.read" {
                    acknowledged.withLock { $0 = true }
                    break
                }
            }
            try await outbound.close(.normalClosure, reason: nil)
        }
        #expect(acknowledged.withLock { $0 }, "the WebSocket read is acknowledged")
    }

    @Test(
        "first_success falls back from email to SMS on a 550 and on a missing address, not on a 451 (retried); a refused channel is named",
        arguments: StoreBackend.available)
    func firstSuccess(_ backend: StoreBackend) async throws {
        let smtp = try await SMTPTestServer.start()
        defer { smtp.stop() }
        let sms = ScriptedChannel(kind: .sms, script: [])
        let type = try Self.escalationType("page_oncall", priority: .high, [WorkflowStep(.send([.email, .sms], .firstSuccess))])
        let engine = try await TestEngine.make(
            on: backend,
            { configuration in
                configuration.eventTypes.append(type)
                configuration.email.smtp = SMTPServerConfiguration(host: "127.0.0.1", port: smtp.port, security: .none, maxConnections: 2, timeoutSeconds: 10)
                configuration.email.fromAddress = "pager@herald.test"
            }, channels: [sms])
        let (tenant, _) = try await engine.createTenant(name: "Pager")
        _ = try await engine.upsertSubscribers(
            tenantID: tenant.id,
            [
                SubscriberInput(id: "rejected", email: "reject-me@example.com", phone: "+15550000001"),
                SubscriberInput(id: "no_email", phone: "+15550000002"),
                SubscriberInput(id: "tempfail", email: "tempfail-me@example.com", phone: "+15550000003"),
                SubscriberInput(id: "fine", email: "fine@example.com", phone: "+15550000004"),
            ])
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(
                    type: "page_oncall", recipients: ["rejected", "no_email", "tempfail", "fine"].map { .subscriber($0) }, payload: ["issue": "DB down"]),
                tenantID: tenant.id)
            #expect(
                try await engine.eventually(timeout: 60) {
                    try await engine.workflowRunCounts(tenantID: tenant.id, eventID: receipt.eventId)["completed"] == 4
                })
            let runs = Dictionary(
                uniqueKeysWithValues: try await engine.workflowRuns(tenantID: tenant.id, eventID: receipt.eventId, subscriberID: nil, cursor: nil, limit: 10)
                    .items.map { ($0.subscriberId, $0) })
            func channels(_ id: String) -> [String] {
                (runs[id]?.steps.first?.messages ?? []).map { "\($0.channel.rawValue):\($0.status.rawValue)" }
            }
            #expect(channels("rejected") == ["email:failed", "sms:sent"], "a 550 falls back to SMS")
            #expect(channels("no_email") == ["email:suppressed", "sms:sent"], "no address falls back at once")
            #expect(channels("tempfail") == ["email:sent"], "a 451 is retried on email, not fallen back from")
            #expect(channels("fine") == ["email:sent"])
            #expect(runs["no_email"]?.steps.first?.messages.first?.reason == "no_address")
            #expect(runs.values.allSatisfy { $0.steps.first?.status == "done" })
            let tempfail = try #require(
                try await engine.messages(tenantID: tenant.id, MessageQuery(eventID: receipt.eventId, channel: .email, limit: 10)).items.first {
                    $0.subscriberId == "tempfail"
                })
            #expect(tempfail.attempts == 2, "the 451 was retried once, then accepted")
            #expect(sms.deliveries.count == 2, "SMS only for the two whose email could not work")
        }
    }

    @Test("a critical workflow ignores quiet hours at every step; the same workflow at medium priority waits for them", arguments: StoreBackend.available)
    func criticalIgnoresQuietHours(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let steps = [
            WorkflowStep(.send([.inApp], .all)),
            WorkflowStep(.wait(WaitSpec(duration: "2m"))),
            WorkflowStep(.send([.email], .all)),
        ]
        let critical = try Self.escalationType("ward_alert", priority: .critical, steps)
        let medium = try Self.escalationType("ward_notice", priority: .medium, steps)
        let engine = try await Self.engine(on: backend, [critical, medium], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Ward")
        // Quiet all day long, on every channel: only critical gets through.
        var input = SubscriberInput(id: "nurse", email: "nurse@example.com")
        input.quietHours = .some(QuietHours(start: "00:00", end: "23:59"))
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, input)
        try await engine.whileRunning {
            let (alert, _) = try await engine.trigger(
                Trigger(type: "ward_alert", recipients: [.subscriber("nurse")], payload: ["issue": "Bed 4"]), tenantID: tenant.id)
            let (notice, _) = try await engine.trigger(
                Trigger(type: "ward_notice", recipients: [.subscriber("nurse")], payload: ["issue": "Rota"]), tenantID: tenant.id)
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.eventDetails(tenantID: tenant.id, id: alert.eventId).messages.contains { $0.channel == .inApp && $0.status == .delivered }
                })
            clock.advance(by: 3 * 60)
            #expect(
                try await engine.eventually(timeout: 30) {
                    try await engine.eventDetails(tenantID: tenant.id, id: alert.eventId).messages.contains { $0.channel == .email && $0.status == .sent }
                }, "the critical run's email goes at once after its wait, quiet hours or not")
            let held = try await engine.eventDetails(tenantID: tenant.id, id: notice.eventId).messages
            #expect(held.filter { $0.channel == .inApp }.map(\.reason) == ["quiet_hours"], "the medium run's first send waits for quiet hours")
            #expect(held.allSatisfy { $0.status == .queued })
        }
    }

    @Test("cancelling the event stops every run that has not finished; nothing more is sent", arguments: StoreBackend.available)
    func cancellation(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let engine = try await Self.engine(on: backend, [try Self.escalationType()], clock: clock)
        let (tenant, _) = try await engine.createTenant(name: "Cancel")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana", email: "ana@example.com"))
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "issue_escalated", recipients: [.subscriber("ana")], payload: ["issue": "HR-9"]), tenantID: tenant.id)
            #expect(
                try await engine.eventually(timeout: 20) {
                    try await engine.workflowRunCounts(tenantID: tenant.id, eventID: receipt.eventId)["waiting"] == 1
                })
            _ = try await engine.cancelEvent(tenantID: tenant.id, id: receipt.eventId)
            clock.advance(by: 16 * 60)
            try await Task.sleep(for: .milliseconds(500))
            let details = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId)
            #expect(details.workflow?.counts["cancelled"] == 1)
            #expect(!details.messages.contains { $0.channel == .email }, "no escalation after the cancel")
            let run = try #require(details.workflow?.runs.first)
            #expect(run.outcome == "event_cancelled")
            #expect(run.steps.map(\.status) == ["done", "skipped", "skipped"])
        }
    }

    @Test("the example catalog's newsletter goes to the app first, and by email two days later only to whoever did not read it")
    func catalogNewsletter() async throws {
        let clock = TestClock()
        let engine = try await TestEngine.make(clock: clock.herald)
        let (tenant, _) = try await engine.createTenant(name: "Maple Court")
        _ = try await engine.upsertSubscribers(
            tenantID: tenant.id, [SubscriberInput(id: "keen", email: "keen@example.com"), SubscriberInput(id: "busy", email: "busy@example.com")])
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(
                    type: "newsletter_app_first", recipients: [.subscriber("keen"), .subscriber("busy")],
                    payload: ["issue_title": "Spring", "summary": "Garden day", "url": "https://estate.example/news/spring"]),
                tenantID: tenant.id)
            #expect(receipt.workflowRuns == 2)
            #expect(try await engine.eventually(timeout: 20) { try await engine.workflowRunCounts(tenantID: tenant.id, eventID: receipt.eventId)["waiting"] == 2 })
            let (_, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: "keen")
            let item = try await Self.firstInboxItem(engine, claims)
            _ = try await engine.markClicked(claims, messageID: item.id)
            clock.advance(by: 2 * 86_400 + 60)
            #expect(try await engine.eventually(timeout: 20) { try await engine.workflowRunCounts(tenantID: tenant.id, eventID: receipt.eventId)["completed"] == 2 })
            let emails = try await engine.eventDetails(tenantID: tenant.id, id: receipt.eventId).messages.filter { $0.channel == .email }
            #expect(emails.map(\.subscriberId) == ["busy"])
            let text = try await engine.metricsExposition()
            #expect(text.contains(#"herald_workflow_runs_total{status="completed",outcome="read"} 1"#) || text.contains(#"herald_workflow_runs_total{outcome="read",status="completed"} 1"#), "runs are counted by outcome")
        }
    }

    @Test("status endpoints that subscribe to workflow.completed get one signed event per run, with how it ended")
    func completedStatusWebhook() async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        let clock = TestClock()
        let type = try Self.escalationType()
        let engine = try await TestEngine.make(
            { configuration in
                configuration.eventTypes.append(type)
                configuration.outbound.allowPrivateNetworks = true
            }, clock: clock.herald)
        let (tenant, _) = try await engine.createTenant(name: "Status")
        for id in ["reader", "ignorer"] {
            _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id, email: "\(id)@example.com"))
        }
        _ = try await engine.putWebhookSettings(
            tenantID: tenant.id,
            WebhookSettings(statusEndpoints: [WebhookEndpoint(url: receiver.url("/runs"), secrets: [WebhookFixtures.secret], events: [.workflowCompleted])]))
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "issue_escalated", recipients: [.subscriber("reader"), .subscriber("ignorer")], payload: ["issue": "HR-1"]),
                tenantID: tenant.id)
            #expect(try await engine.eventually(timeout: 20) { try await engine.workflowRunCounts(tenantID: tenant.id, eventID: receipt.eventId)["waiting"] == 2 })
            let (_, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: "reader")
            let item = try await Self.firstInboxItem(engine, claims)
            _ = try await engine.markRead(claims, messageID: item.id)
            clock.advance(by: 16 * 60)
            #expect(try await receiver.wait { $0.count >= 2 })
            try await Task.sleep(for: .milliseconds(300))
        }
        let deliveries = try receiver.deliveries()
        #expect(deliveries.count == 2)
        #expect(deliveries.allSatisfy { $0.verified && $0.json?["type"] == "workflow.completed" })
        let outcomes = Dictionary(
            uniqueKeysWithValues: deliveries.compactMap { delivery -> (String, String)? in
                guard let data = delivery.json?["data"], let subscriber = data["subscriber_id"]?.stringValue, let outcome = data["outcome"]?.stringValue
                else { return nil }
                return (subscriber, outcome)
            })
        #expect(outcomes == ["reader": "read", "ignorer": "finished"])
    }
}
