import Foundation
import HTTPTypes
import Testing

@testable import Herald

/// Email open and click tracking through a running engine and its HTTP routes, on both stores: what the
/// email in the outbox carries, what following its links records and where it leads, what a forged link
/// gets, the status webhooks, the stats, and the workflow runs an open or click ends.
@Suite("Email open and click tracking", .timeLimit(.minutes(5)), .dropsPostgresSchemas)
struct TrackingTests {
    static let publicURL = "https://herald.maplecourt.example"
    static let billURL = "https://maplecourt.example/bills?id=7&view=full"

    /// One email with a link (written with `&amp;`, as HTML wants), a mailto link and a text part.
    static func billType(_ key: String = "bill_ready", priority: Priority = .medium, tracking: EmailTracking? = nil) -> EventType {
        var type = EventType(
            key: key, name: "Bill ready", priority: priority, channels: [.email],
            parameters: ["amount": ParameterSpec(type: .string)],
            templates: [
                .email: [
                    "en": [
                        "subject": "Your bill of {{amount}}",
                        "html":
                            #"<p>Bill of {{amount}}: <a href="https://maplecourt.example/bills?id=7&amp;view=full">see it</a>, or <a href='mailto:office@maplecourt.example'>write</a>.</p>"#,
                        "text": "Bill of {{amount}}: \(billURL)",
                    ]
                ]
            ])
        type.tracking = tracking
        return type
    }

    static func engine(on backend: StoreBackend, outbox: URL, clock: TestClock? = nil, types: [EventType] = []) async throws -> HeraldEngine {
        try await TestEngine.make(
            on: backend,
            { configuration in
                configuration.email.outboxDirectory = outbox.path
                configuration.email.publicURL = publicURL
                configuration.outbound.allowPrivateNetworks = true
                configuration.eventTypes += types
            }, clock: clock?.herald ?? .system)
    }

    /// A tenant with `types`, subscriber `ana`, and email tracking as given (nil: never set); its id and API key.
    @discardableResult
    static func tenant(_ engine: HeraldEngine, _ name: String, tracking: EmailTracking?, types: [EventType]) async throws -> (id: String, key: String)
    {
        let (tenant, key) = try await engine.createTenant(name: name)
        for type in types { try await engine.putEventType(tenantID: tenant.id, type) }
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana", name: "Ana", email: "ana@example.com"))
        if let tracking {
            var settings = EmailSettings()
            settings.tracking = tracking
            _ = try await engine.putEmailSettings(tenantID: tenant.id, settings)
        }
        return (tenant.id, key.key)
    }

    /// Triggers `type` for ana and waits until its email is sent; returns the message.
    static func send(_ engine: HeraldEngine, tenantID: String, type: String = "bill_ready") async throws -> Message {
        let (receipt, _) = try await engine.trigger(
            Trigger(type: type, recipients: [.subscriber("ana")], payload: ["amount": "€42"]), tenantID: tenantID)
        let messages = try await engine.settledMessages(tenantID: tenantID, eventID: receipt.eventId)
        let message = try #require(messages.first?.0)
        #expect(message.status == .sent, "\(messages)")
        return message
    }

    /// The HTML and text parts of the email of `messageID` in `outbox`, decoded from their transfer encoding.
    static func sentEmail(_ outbox: URL, messageID: String) throws -> (html: String, text: String) {
        for file in try FileManager.default.contentsOfDirectory(at: outbox, includingPropertiesForKeys: nil) where file.pathExtension == "eml" {
            let entity = InboundMIMEEntity.parse(ArraySlice(try Data(contentsOf: file)))
            guard entity.field("X-Herald-Message") == messageID else { continue }
            let parts = entity.all()
            func part(_ subtype: String) -> String {
                parts.first { $0.contentType.type == "text" && $0.contentType.subtype == subtype }.map {
                    String(decoding: $0.decodedBody, as: UTF8.self)
                }
                    ?? ""
            }
            return (part("html"), part("plain"))
        }
        Issue.record("no email for \(messageID) in \(outbox.path)")
        return ("", "")
    }

    /// The paths of the tracked links (`/t/c/…`) and pixels (`/t/o/…`) in `html`.
    static func trackedPaths(_ html: String, _ kind: String) -> [String] {
        let prefix = publicURL + "/t/\(kind)/"
        return html.components(separatedBy: prefix).dropFirst().map { rest in
            "/t/\(kind)/" + rest.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        }
    }

    /// Sends `type` to ana and counts the tracked links and pixels of its email: `[clicks, opens]`.
    static func trackedCounts(_ engine: HeraldEngine, _ outbox: URL, _ tenantID: String, _ type: String) async throws -> [Int] {
        let message = try await send(engine, tenantID: tenantID, type: type)
        let html = try sentEmail(outbox, messageID: message.id).html
        let counts = [trackedPaths(html, "c").count, trackedPaths(html, "o").count]
        if counts[0] == 0 { #expect(html.contains("https://maplecourt.example/bills?id=7&amp;view=full"), "\(type): the link as written") }
        return counts
    }

    static func counts(_ engine: HeraldEngine, tenantID: String, _ id: String) async throws -> (opens: Int?, clicks: Int?, message: Message) {
        let (message, _) = try await engine.message(tenantID: tenantID, id: id)
        return (message.openCount, message.clickCount, message)
    }

    @Test(
        "with tracking on, a click redirects to the original URL and records one click; forged links are refused and record nothing",
        arguments: StoreBackend.available)
    func clicksAndOpens(_ backend: StoreBackend) async throws {
        let outbox = TestEngine.temporaryDirectory()
        let engine = try await Self.engine(on: backend, outbox: outbox)
        let (tenantID, key) = try await Self.tenant(
            engine, "Maple Court", tracking: EmailTracking(opens: true, clicks: true), types: [Self.billType()])
        try await engine.testAPI { api in
            let message = try await Self.send(engine, tenantID: tenantID)
            let email = try Self.sentEmail(outbox, messageID: message.id)
            let clicks = Self.trackedPaths(email.html, "c")
            let opens = Self.trackedPaths(email.html, "o")
            #expect(clicks.count == 1, "the bill link only: not mailto, not unsubscribe: \(email.html)")
            #expect(opens.count == 1)
            #expect(!email.html.contains("https://maplecourt.example/bills"), "the original link is only inside the token")
            #expect(email.html.contains("mailto:office@maplecourt.example") && email.html.contains(Self.publicURL + "/unsubscribe?token="))
            #expect(email.text.contains(Self.billURL) && !email.text.contains("/t/"), "the text part is left as it is")
            let click = try #require(clicks.first)
            let pixel = try #require(opens.first)

            // HEAD answers like GET and records nothing.
            let head = try await api.send(.head, click)
            #expect(head.status == .found && head.headers[.location] == Self.billURL)
            #expect(try await Self.counts(engine, tenantID: tenantID, message.id).clicks == 0)

            let followed = try await api.send(.get, click)
            #expect(followed.status == .found, "\(followed.text)")
            #expect(followed.headers[.location] == Self.billURL, "to the decoded original: &amp; is &")
            #expect(followed.headers[.cacheControl] == "no-store")
            var state = try await Self.counts(engine, tenantID: tenantID, message.id)
            #expect(state.clicks == 1 && state.opens == 0)
            let firstClick = try #require(state.message.clickedAt)

            // Forged and altered links: 404 problem+json, no redirect, nothing recorded.
            let token = String(click.dropFirst("/t/c/".count))
            let parts = token.split(separator: ".").map(String.init)
            let body = try #require(Data(base64URLEncoded: parts[0]))
            let elsewhere = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "maplecourt.example", with: "evil.example")
            let forgeries = [
                "/t/c/" + parts[0] + "." + String(parts[1].reversed()),
                "/t/c/" + Data(elsewhere.utf8).base64URLEncoded() + "." + parts[1],
                "/t/c/" + EmailTrackingTokens(secret: "not this server").clickToken(
                    messageRow: Message.rowID(message.id)!, url: "https://evil.example/")!,
                "/t/c/" + String(pixel.dropFirst("/t/o/".count)),
                "/t/c/" + String(repeating: "A", count: 20_000),
                "/t/c/%00",
                "/t/o/" + token,
            ]
            for forged in forgeries {
                for method in [HTTPRequest.Method.get, .head] {
                    let reply = try await api.send(method, forged)
                    #expect(
                        reply.status == .notFound || (forged.hasSuffix("%00") && reply.status == .unprocessableContent),
                        "\(method) \(forged.prefix(80)): \(reply.status)")
                    #expect(reply.headers[.location] == nil)
                    if method == .get, reply.status == .notFound {
                        #expect(reply.headers[.contentType] == "application/problem+json", "\(forged.prefix(80))")
                    }
                }
            }
            state = try await Self.counts(engine, tenantID: tenantID, message.id)
            #expect(state.clicks == 1 && state.opens == 0, "forged links record nothing")

            _ = try await api.send(.get, click)
            state = try await Self.counts(engine, tenantID: tenantID, message.id)
            #expect(state.clicks == 2 && state.message.clickedAt == firstClick, "every click counts; clicked_at is the first")

            // Opens: a transparent GIF nobody caches; HEAD records nothing.
            let peek = try await api.send(.head, pixel)
            #expect(peek.status == .ok && peek.headers[.contentType] == "image/gif")
            #expect(try await Self.counts(engine, tenantID: tenantID, message.id).opens == 0)
            let image = try await api.send(.get, pixel)
            #expect(image.status == .ok && image.headers[.contentType] == "image/gif" && image.headers[.contentLength] == "43")
            #expect(image.headers[.cacheControl]?.contains("no-store") == true)
            _ = try await api.send(.get, pixel)
            state = try await Self.counts(engine, tenantID: tenantID, message.id)
            #expect(state.opens == 2 && state.clicks == 2 && state.message.openedAt != nil)

            // The activity log and the stats show them.
            let shown = try await api.send(.get, "/v1/messages/\(message.id)", auth: key)
            #expect(shown["open_count"] == 2 && shown["click_count"] == 2, "\(shown.text)")
            #expect(shown["opened_at"]?.stringValue != nil && shown["clicked_at"]?.stringValue != nil)
            let stats = try await api.send(.get, "/v1/stats?window=1h", auth: key)
            #expect(stats["email_tracking"] == ["sent": 1, "opened": 1, "opens": 2, "clicked": 1, "clicks": 2], "\(stats.text)")
        }
    }

    @Test(
        "critical emails and tenants without tracking carry no tracked link and no pixel; an event type overrides the tenant field by field",
        arguments: StoreBackend.available)
    func whatIsTracked(_ backend: StoreBackend) async throws {
        let outbox = TestEngine.temporaryDirectory()
        let engine = try await Self.engine(on: backend, outbox: outbox)
        let types = [
            Self.billType(), Self.billType("alarm", priority: .critical), Self.billType("opens_only", tracking: EmailTracking(clicks: false)),
            Self.billType("tracked_type", tracking: EmailTracking(opens: true, clicks: true)),
        ]
        let plain = try await Self.tenant(engine, "Untracked", tracking: nil, types: types).id
        let off = try await Self.tenant(engine, "Off", tracking: EmailTracking(opens: false, clicks: false), types: types).id
        let on = try await Self.tenant(engine, "Tracked", tracking: EmailTracking(opens: true, clicks: true), types: types).id
        let cases: [(tenantID: String, type: String, expected: [Int], why: String)] = [
            (plain, "bill_ready", [0, 0], "off by default"),
            (off, "bill_ready", [0, 0], "switched off"),
            (on, "bill_ready", [1, 1], "switched on"),
            (on, "alarm", [0, 0], "never on critical email"),
            (on, "opens_only", [0, 1], "the type switches clicks off and leaves opens to the tenant"),
            (plain, "tracked_type", [1, 1], "the type switches tracking on for a tenant that leaves it unset"),
            (off, "tracked_type", [1, 1], "and over a tenant's off"),
        ]
        try await engine.whileRunning {
            for item in cases {
                let counts = try await Self.trackedCounts(engine, outbox, item.tenantID, item.type)
                #expect(counts == item.expected, "\(item.type): \(item.why)")
            }
        }
    }

    @Test("message.opened once per message and message.clicked for each click reach the status endpoints, signed", arguments: StoreBackend.available)
    func statusWebhooks(_ backend: StoreBackend) async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        let outbox = TestEngine.temporaryDirectory()
        let engine = try await Self.engine(on: backend, outbox: outbox)
        let tenantID = try await Self.tenant(engine, "Hooks", tracking: EmailTracking(opens: true, clicks: true), types: [Self.billType()]).id
        _ = try await engine.putWebhookSettings(
            tenantID: tenantID,
            WebhookSettings(statusEndpoints: [
                WebhookEndpoint(url: receiver.url("/engagement"), secrets: [WebhookFixtures.secret], events: [.opened, .clicked])
            ]))
        try await engine.testAPI { api in
            let message = try await Self.send(engine, tenantID: tenantID)
            let html = try Self.sentEmail(outbox, messageID: message.id).html
            let click = try #require(Self.trackedPaths(html, "c").first)
            let pixel = try #require(Self.trackedPaths(html, "o").first)
            for path in [pixel, pixel, click, click, pixel] { _ = try await api.send(.get, path) }
            _ = try await api.send(.head, click)
            #expect(try await receiver.wait { $0.count >= 3 })
            try await Task.sleep(for: .milliseconds(500))  // room for anything extra to show up
        }
        let deliveries = try receiver.deliveries()
        #expect(deliveries.count == 3 && deliveries.allSatisfy { $0.verified && $0.delivered })
        let types = deliveries.compactMap { $0.json?["type"]?.stringValue }.sorted()
        #expect(types == ["message.clicked", "message.clicked", "message.opened"])
        for delivery in deliveries {
            let data = try #require(delivery.json?["data"])
            #expect(data["channel"] == "email" && data["event_type"] == "bill_ready" && data["subscriber_id"] == "ana")
            #expect(data["message_id"]?.stringValue?.hasPrefix("msg_") == true)
            if delivery.json?["type"] == "message.clicked" {
                #expect(data["url"]?.stringValue == Self.billURL && data["clicked_at"]?.stringValue != nil)
            } else {
                #expect(data["open_count"] == 1 && data["opened_at"]?.stringValue != nil && data["url"] == nil)
            }
        }
        #expect(deliveries.compactMap { $0.json?["data"]?["click_count"] }.filter { $0 != 0 }.count == 2)
    }

    @Test(
        "a workflow waiting until clicked (or opened) ends at once when its email is clicked (opened)",
        arguments: StoreBackend.available.flatMap { backend in [WaitSpec.Until.clicked, .opened].map { (backend, $0) } })
    func workflowWakes(_ backend: StoreBackend, _ until: WaitSpec.Until) async throws {
        let clock = TestClock()
        var type = Self.billType(tracking: EmailTracking(opens: true, clicks: true))
        type.channels = [.email, .inApp]
        type.templates[.inApp] = ["en": ["title": "Bill {{amount}}", "body": "Your bill is ready"]]
        type.workflow = Workflow(steps: [
            WorkflowStep(.send([.email], .all)), WorkflowStep(.wait(WaitSpec(duration: "1h", until: until))), WorkflowStep(.send([.inApp], .all)),
        ])
        let outbox = TestEngine.temporaryDirectory()
        let engine = try await Self.engine(on: backend, outbox: outbox, clock: clock)
        let tenantID = try await Self.tenant(engine, "Workflows", tracking: nil, types: [type]).id
        try await engine.testAPI { api in
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "bill_ready", recipients: [.subscriber("ana")], payload: ["amount": "€42"]), tenantID: tenantID)
            @Sendable func run() async throws -> WorkflowRun? {
                try await engine.workflowRuns(tenantID: tenantID, eventID: receipt.eventId, subscriberID: "ana", cursor: nil, limit: 1).items.first
            }
            #expect(try await engine.eventually(timeout: 20) { try await run()?.status == .waiting })
            // The run waits once its email is made; the email is written to the outbox when the dispatcher sends it.
            #expect(
                try await engine.eventually(timeout: 20) {
                    try await engine.eventDetails(tenantID: tenantID, id: receipt.eventId).messages.contains { $0.channel == .email && $0.status == .sent }
                })
            let email = try #require(try await engine.eventDetails(tenantID: tenantID, id: receipt.eventId).messages.first { $0.channel == .email })
            let html = try Self.sentEmail(outbox, messageID: email.id).html
            // The other kind first: it does not end this wait.
            let other = try #require(Self.trackedPaths(html, until == .clicked ? "o" : "c").first)
            _ = try await api.send(.get, other)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await run()?.status == .waiting, "only what the wait waits for ends it")
            let path = try #require(Self.trackedPaths(html, until == .clicked ? "c" : "o").first)
            _ = try await api.send(.get, path)
            #expect(try await engine.eventually(timeout: 10) { try await run()?.status == .completed }, "no clock moved: the click woke it")
            let finished = try #require(try await run())
            #expect(finished.outcome == until.rawValue)
            #expect(finished.steps.map(\.status) == ["done", "done", "skipped"])
            #expect(finished.steps[2].reason == "\(until.rawValue)_before_wait_ended")
            let channels = try await engine.eventDetails(tenantID: tenantID, id: receipt.eventId).messages.map(\.channel)
            #expect(channels == [.email], "the in-app escalation never went")
        }
    }

    @Test("tracking in an event type is checked when it is saved: unknown fields by name, critical types, types without email, until and conditions")
    func eventTypeValidation() async throws {
        let engine = try await TestEngine.make()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Checks")
            func put(_ key: String, _ body: JSONValue, auth: String) async throws -> APIClient.Reply {
                try await api.send(.put, "/v1/event-types/\(key)", auth: auth, json: body)
            }
            func fields(_ reply: APIClient.Reply) -> [String] {
                guard case .array(let errors)? = reply["errors"] else { return [] }
                return errors.compactMap { $0["field"]?.stringValue }
            }
            let email: JSONValue = ["en": ["subject": "Hi", "html": "<p>Hi</p>"]]
            func type(priority: String = "medium", channels: [JSONValue] = ["email"], extra: [String: JSONValue]) -> JSONValue {
                let templates: [String: JSONValue] = ["email": email, "in_app": ["en": ["title": "Hi", "body": "Hi"]]]
                var object: [String: JSONValue] = [
                    "priority": .string(priority), "channels": .array(channels),
                    "templates": .object(templates.filter { channels.contains(.string($0.key)) }),
                ]
                object.merge(extra) { $1 }
                return .object(object)
            }
            let misspelt = try await put("a", type(extra: ["tracking": ["opens": true, "clickz": true]]), auth: key)
            #expect(misspelt.status == .unprocessableContent && fields(misspelt) == ["tracking.clickz"], "\(misspelt.text)")
            let critical = try await put("b", type(priority: "critical", extra: ["tracking": ["clicks": true]]), auth: key)
            #expect(critical.status == .unprocessableContent && fields(critical) == ["tracking"], "\(critical.text)")
            let noEmail = try await put("c", type(channels: ["in_app"], extra: ["tracking": ["opens": true]]), auth: key)
            #expect(noEmail.status == .unprocessableContent && fields(noEmail) == ["tracking"], "\(noEmail.text)")
            let criticalOff = try await put("d", type(priority: "critical", extra: ["tracking": ["opens": false, "clicks": false]]), auth: key)
            #expect(criticalOff.status == .ok || criticalOff.status == .created, "switched off is always fine: \(criticalOff.text)")

            let saved = try await put("e", type(extra: ["tracking": ["clicks": true]]), auth: key)
            #expect(saved.status == .ok || saved.status == .created, "\(saved.text)")
            let read = try await api.send(.get, "/v1/event-types/e", auth: key)
            #expect(read["tracking"] == ["clicks": true], "\(read.text)")

            let waits: JSONValue = [
                ["send": "email"], ["wait": "15m", "until": "opened"], ["send": "email", "if": "not opened and not steps.0.opened"],
            ]
            let opened = try await put("f", type(extra: ["workflow": waits]), auth: key)
            #expect(opened.status == .ok || opened.status == .created, "\(opened.text)")
            let inAppOnly: JSONValue = [["send": "in_app"], ["wait": "15m", "until": "opened"], ["send": "in_app"]]
            let refused = try await put("g", type(channels: ["in_app"], extra: ["workflow": inAppOnly]), auth: key)
            #expect(refused.status == .unprocessableContent && fields(refused) == ["workflow[1].until"], "\(refused.text)")
            let emailClicks: JSONValue = [["send": "email"], ["wait": "15m", "until": "clicked"], ["send": "email", "if": "not clicked"]]
            let clicked = try await put("h", type(extra: ["workflow": emailClicks]), auth: key)
            #expect(clicked.status == .ok || clicked.status == .created, "clicked happens to email now: \(clicked.text)")
        }
    }
}
