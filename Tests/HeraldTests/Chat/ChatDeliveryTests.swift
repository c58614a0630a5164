import Foundation
import Herald
import Testing

/// The chat channel end to end: Herald's dispatcher posting to fake Slack, Teams and Discord webhooks
/// (scripts/provider_test_server.py) that check each service's JSON and answer as the service does.
@Suite("Chat delivery to Slack, Teams and Discord webhooks", .serialized)
struct ChatDeliveryTests {
    /// A chat-only event type whose text carries Slack's special characters and a Discord mass mention.
    static let gateAlert = EventType(
        key: "gate_alert", name: "Gate alert", priority: .high, channels: [.chat], parameters: ["visitor": ParameterSpec(type: .string)],
        templates: [.chat: ["en": ["title": "Gate: {{visitor}}", "text": "{{visitor}} is at the <north> gate & waiting. @everyone"]]])

    static func engine(_ configure: @escaping (inout HeraldConfiguration) -> Void = { _ in }) async throws -> HeraldEngine {
        try await TestEngine.make { configuration in
            configuration.outbound.allowPrivateNetworks = true
            configuration.outbound.timeoutSeconds = 5
            configuration.dispatch.leaseSeconds = 30
            configure(&configuration)
        }
    }

    static func tenant(_ engine: HeraldEngine) async throws -> String {
        let (tenant, _) = try await engine.createTenant(name: "Maple Court")
        try await engine.putEventType(tenantID: tenant.id, gateAlert)
        return tenant.id
    }

    @discardableResult
    static func trigger(_ engine: HeraldEngine, tenantID: String, to subscribers: [String], visitor: String = "Ana") async throws -> String {
        try await engine.trigger(
            Trigger(type: "gate_alert", recipients: subscribers.map(Recipient.subscriber), payload: ["visitor": .string(visitor)]), tenantID: tenantID
        ).0.eventId
    }

    @Test func eachServiceGetsItsOwnFormatFromTheSubscribersWebhook() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let tenantID = try await Self.tenant(engine)
        let hooks = [("slack", server.slackURL()), ("teams", server.teamsURL()), ("discord", server.discordURL())]
        for (provider, url) in hooks {
            _ = try await engine.upsertSubscriber(
                tenantID: tenantID, SubscriberInput(id: provider, data: ["chat_webhook_url": .string(url), "chat_provider": .string(provider)]))
        }
        try await engine.whileRunning {
            let eventID = try await Self.trigger(engine, tenantID: tenantID, to: ["slack", "teams", "discord"], visitor: "Ana & <Ben>")
            let messages = try await engine.settledMessages(tenantID: tenantID, eventID: eventID)
            #expect(messages.map(\.0.status) == [.sent, .sent, .sent])
            for (message, attempts) in messages {
                #expect(attempts.count == 1)
                #expect(attempts.first?.detail?.hasPrefix("via \(message.subscriberId) 127.0.0.1:\(server.port): HTTP 2") == true, "\(attempts)")
            }
        }
        let received = try server.requests()
        #expect(received.count == 3 && received.allSatisfy { $0.headers["content-type"] == "application/json" })

        let slack = try #require(received.first { $0.provider == "slack" })
        #expect(slack.status == 200 && slack.path == "/services/T000/B000/abc")
        #expect(
            slack.json == [
                "text": "Gate: Ana &amp; &lt;Ben&gt;: Ana &amp; &lt;Ben&gt; is at the &lt;north&gt; gate &amp; waiting. @everyone",
                "blocks": [
                    ["type": "header", "text": ["type": "plain_text", "text": "Gate: Ana & <Ben>", "emoji": true]],
                    [
                        "type": "section",
                        "text": ["type": "mrkdwn", "text": "Ana &amp; &lt;Ben&gt; is at the &lt;north&gt; gate &amp; waiting. @everyone"],
                    ],
                ],
            ])

        let teams = try #require(received.first { $0.provider == "teams" })
        #expect(teams.status == 202)
        #expect(
            teams.json == [
                "type": "message",
                "attachments": [
                    [
                        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": nil,
                        "content": [
                            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
                            "body": [
                                ["type": "TextBlock", "text": "Gate: Ana & <Ben>", "weight": "Bolder", "size": "Medium", "wrap": true],
                                ["type": "TextBlock", "text": "Ana & <Ben> is at the <north> gate & waiting. @everyone", "wrap": true],
                            ],
                        ],
                    ]
                ],
            ])

        let discord = try #require(received.first { $0.provider == "discord" })
        #expect(discord.status == 204)
        #expect(
            discord.json == [
                "embeds": [["title": "Gate: Ana & <Ben>", "description": "Ana & <Ben> is at the <north> gate & waiting. @everyone"]],
                "allowed_mentions": ["parse": []],
            ])
    }

    @Test func longTextIsCutToEachServicesLimits() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let tenantID = try await Self.tenant(engine)
        let notice = EventType(
            key: "notice", priority: .medium, channels: [.chat], parameters: ["body": ParameterSpec(type: .string)],
            templates: [.chat: ["en": ["text": "{{body}}"]]])
        try await engine.putEventType(tenantID: tenantID, notice)
        for (provider, url) in [("slack", server.slackURL()), ("discord", server.discordURL())] {
            _ = try await engine.upsertSubscriber(
                tenantID: tenantID, SubscriberInput(id: provider, data: ["chat_webhook_url": .string(url), "chat_provider": .string(provider)]))
        }
        // 5,000 characters in lines of 49 and a newline, with an emoji (two UTF-16 units) in each.
        let line = "Water off in block B 🚰 from 10:00 to 12:00 <ok>"
        let body = Array(repeating: line, count: 100).joined(separator: "\n")
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "notice", recipients: [.subscriber("slack"), .subscriber("discord")], payload: ["body": .string(body)]),
                tenantID: tenantID)
            let messages = try await engine.settledMessages(tenantID: tenantID, eventID: receipt.eventId)
            #expect(messages.map(\.0.status) == [.sent, .sent], "\(messages.map(\.1))")
        }
        // The fakes refuse what the real services refuse (a section over 3,000, content over 2,000), so 2xx means it fit.
        let slack = try #require(try server.requests(provider: "slack").first)
        #expect(slack.status == 200)
        guard case .array(let blocks)? = slack.json?["blocks"] else { Issue.record("no blocks"); return }
        let sections = blocks.compactMap { $0["text"]?["text"]?.stringValue }
        #expect(sections.count == 2 && sections.allSatisfy { $0.utf16.count <= 3000 && $0.hasSuffix("&lt;ok&gt;") })
        #expect(sections.joined(separator: "\n") == SlackPayload.escaped(body), "split at a line break, nothing lost")
        let discord = try #require(try server.requests(provider: "discord").first)
        #expect(discord.status == 204)
        let content = try #require(discord.json?["content"]?.stringValue)
        #expect(content.utf16.count <= 2000 && content.hasSuffix("…") && body.hasPrefix(String(content.dropLast())))
    }

    @Test func tenantWebhooksFailOverPastGoneAndRateLimitedOnes() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let tenantID = try await Self.tenant(engine)
        try await engine.putChatSettings(
            tenantID: tenantID,
            ChatSettings(webhooks: [
                ChatWebhook(provider: .slack, url: server.slackURL("T0/B0/gone"), name: "#old-front-desk"),
                ChatWebhook(provider: .discord, url: server.discordURL(token: "ratelimited")),
                ChatWebhook(provider: .teams, url: server.teamsURL()),
            ]))
        // No webhook of their own: the tenant's webhooks reach them, so the planner queues the message.
        _ = try await engine.upsertSubscriber(tenantID: tenantID, SubscriberInput(id: "ana"))
        try await engine.whileRunning {
            let eventID = try await Self.trigger(engine, tenantID: tenantID, to: ["ana"])
            let messages = try await engine.settledMessages(tenantID: tenantID, eventID: eventID)
            #expect(messages.count == 1)
            let (message, attempts) = try #require(messages.first)
            #expect(message.status == .sent && attempts.count == 1)
            let detail = attempts.first?.detail ?? ""
            #expect(detail.hasPrefix("via teams 127.0.0.1:\(server.port) (webhook 3) ("), "\(detail)")
            #expect(
                detail.contains("slack 127.0.0.1:\(server.port) (#old-front-desk): the webhook no longer exists (HTTP 404: no_service)"), "\(detail)")
            #expect(detail.contains("discord 127.0.0.1:\(server.port) (webhook 2): rate limited, retry after 0.25 s"), "\(detail)")
            #expect(!detail.contains("/services/") && !detail.contains("ratelimited"), "webhook paths are secrets and never shown")
        }
        #expect(try server.requests().map(\.provider) == ["slack", "discord", "teams"])
        #expect(try server.requests().map(\.status) == [404, 429, 202])
    }

    @Test func aMessageTheServiceRefusesIsNotTriedOnTheNextWebhook() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let tenantID = try await Self.tenant(engine)
        try await engine.putChatSettings(
            tenantID: tenantID,
            ChatSettings(webhooks: [ChatWebhook(provider: .slack, url: server.slackURL()), ChatWebhook(provider: .teams, url: server.teamsURL())]))
        try await server.fail(prefix: "/services/", status: 400)
        _ = try await engine.upsertSubscriber(tenantID: tenantID, SubscriberInput(id: "ana"))
        try await engine.whileRunning {
            let eventID = try await Self.trigger(engine, tenantID: tenantID, to: ["ana"])
            let (message, attempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: eventID).first)
            #expect(message.status == .failed && message.reason == "rejected")
            #expect(attempts.count == 1 && attempts.first?.outcome == .permanentFailure)
            #expect(attempts.first?.detail?.contains("the service refused the message (HTTP 400: invalid_payload)") == true, "\(attempts)")
        }
        #expect(try server.requests().map(\.provider) == ["slack"], "a 400 is about the message: Teams is not tried")
    }

    @Test func aDownWebhookOpensItsCircuitAndDefersWithoutUsingAttempts() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine { configuration in
            // Open long enough that the checks below run before the half-open probe, even on a busy CI machine
            // (at 2 s a slow run saw the probe's own 503 before it counted the requests).
            configuration.outbound.circuit = CircuitBreaker.Settings(failureThreshold: 2, openSeconds: 6, maxOpenSeconds: 6)
            configuration.dispatch.maxAttempts = 3
        }
        let tenantID = try await Self.tenant(engine)
        _ = try await engine.upsertSubscriber(
            tenantID: tenantID, SubscriberInput(id: "ops", data: ["chat_webhook_url": .string(server.slackURL()), "chat_provider": "slack"]))
        try await server.fail(prefix: "/services/", status: 503)
        try await engine.whileRunning {
            let eventID = try await Self.trigger(engine, tenantID: tenantID, to: ["ops"])
            let messageID = try #require(try await engine.eventDetails(tenantID: tenantID, id: eventID).messages.first?.id)
            // Two 503s open the circuit; from then on the message is deferred, its attempts untouched.
            #expect(
                try await engine.eventually(timeout: 20) {
                    try await engine.message(tenantID: tenantID, id: messageID).1.contains { $0.outcome == .deferred }
                })
            let (waiting, tries) = try await engine.message(tenantID: tenantID, id: messageID)
            #expect([.queued, .sending].contains(waiting.status) && waiting.attempts == 2, "the deferral did not use up the last attempt")
            #expect(tries.filter { $0.outcome == .transientFailure }.count == 2)
            #expect(tries.last?.detail?.contains("circuit open") == true, "\(tries)")
            #expect(try server.requests().count == 2, "nothing is sent while the circuit is open")
            // The service recovers; the half-open probe takes the message.
            try await server.clearFailures()
            #expect(try await engine.eventually(timeout: 20) { try await engine.message(tenantID: tenantID, id: messageID).0.status == .sent })
            let (sent, attempts) = try await engine.message(tenantID: tenantID, id: messageID)
            #expect(sent.attempts == 3)
            #expect(attempts.last?.outcome == .sent)
        }
        #expect(try server.requests().map(\.status) == [503, 503, 200])
        #expect(engine.circuits.snapshot().map(\.key) == ["chat slack 127.0.0.1:\(server.port)"])
        #expect(engine.circuits.snapshot().allSatisfy { !$0.key.contains("/services/") && !$0.key.contains("T000") })
    }

    @Test func fiveHundredPostsEachReachTheirOwnWebhookOnce() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let tenantID = try await Self.tenant(engine)
        let count = 500
        let services: [ChatService] = [.slack, .teams, .discord]
        func url(_ index: Int) -> String {
            switch services[index % 3] {
            case .slack: server.slackURL("T0/B0/s\(index)")
            case .teams: server.teamsURL("flow\(index)")
            case .discord: server.discordURL(token: "t\(index)")
            }
        }
        let inputs = (0..<count).map { index in
            SubscriberInput(
                id: "c\(index)", data: ["chat_webhook_url": .string(url(index)), "chat_provider": .string(services[index % 3].rawValue)])
        }
        _ = try await engine.upsertSubscribers(tenantID: tenantID, inputs)
        _ = try await engine.upsertTopic(tenantID: tenantID, key: "all", name: nil)
        _ = try await engine.addTopicMembers(tenantID: tenantID, key: "all", subscriberIDs: inputs.map(\.id))
        let started = Date()
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "gate_alert", recipients: [.topic("all")], payload: ["visitor": "Ana"]), tenantID: tenantID)
            #expect(
                try await engine.eventually(timeout: 60) {
                    try await engine.store.messageCounts(tenantID: tenantID, eventID: receipt.eventId)["sent"] == count
                })
        }
        let seconds = Date().timeIntervalSince(started)
        print("Chat: \(count) posts to Slack, Teams and Discord fakes in \(String(format: "%.2f", seconds)) s (\(Int(Double(count) / seconds))/s)")
        let received = try server.requests()
        #expect(received.count == count && received.allSatisfy { [200, 202, 204].contains($0.status ?? 0) })
        #expect(Set(received.map(\.path)).count == count, "each webhook once")
        #expect(engine.circuits.snapshot().map(\.key) == ["chat discord", "chat slack", "chat teams"].map { "\($0) 127.0.0.1:\(server.port)" })
    }

    @Test func plannerQueuesChatOnlyWhereThereIsAWebhook() async throws {
        let engine = try await Self.engine()
        let tenantID = try await Self.tenant(engine)
        _ = try await engine.upsertSubscriber(tenantID: tenantID, SubscriberInput(id: "nobody"))
        _ = try await engine.upsertSubscriber(
            tenantID: tenantID, SubscriberInput(id: "own", data: ["chat_webhook_url": "https://hooks.slack.com/services/T0/B0/x"]))
        let first = try await Self.trigger(engine, tenantID: tenantID, to: ["nobody", "own"])
        let planned = try await engine.eventDetails(tenantID: tenantID, id: first).messages.sorted { $0.subscriberId < $1.subscriberId }
        #expect(planned.map(\.status) == [.suppressed, .queued])
        #expect(planned.first?.reason == "no_address")

        try await engine.putChatSettings(tenantID: tenantID, ChatSettings(webhooks: [ChatWebhook(url: "https://hooks.slack.com/services/T0/B0/y")]))
        let second = try await Self.trigger(engine, tenantID: tenantID, to: ["nobody"])
        #expect(try await engine.eventDetails(tenantID: tenantID, id: second).messages.map(\.status) == [.queued])
    }

    @Test func loopbackWebhooksAreRefusedUnlessTheOperatorAllowsThem() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine { $0.outbound.allowPrivateNetworks = false }
        let tenantID = try await Self.tenant(engine)
        let input = SubscriberInput(id: "ops", data: ["chat_webhook_url": .string(server.slackURL()), "chat_provider": "slack"])
        // A loopback address is refused when saved, without DNS ...
        await #expect(throws: HeraldError.self) { _ = try await engine.upsertSubscriber(tenantID: tenantID, input) }
        // ... and when sending, for data stored before that check (written straight to the store here).
        _ = try await engine.store.upsertSubscriber(tenantID: tenantID, input)
        try await engine.whileRunning {
            let eventID = try await Self.trigger(engine, tenantID: tenantID, to: ["ops"])
            let (message, attempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: eventID).first)
            #expect(message.status == .failed)
            #expect(attempts.first?.detail?.contains("loopback") == true, "\(attempts)")
        }
        #expect(try server.requests().isEmpty)
    }

    @Test func settingsAPIRedactsURLsAndNamesBadFields() async throws {
        let engine = try await Self.engine()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Maple Court")
            let slack = "https://hooks.slack.com/services/T0/B0/secret-token"
            let discord = "https://discord.com/api/webhooks/1/other-secret"
            let put = try await api.send(
                .put, "/v1/settings/chat", auth: key,
                json: ["webhooks": [["url": .string(slack), "name": "#front-desk"], ["provider": "discord", "url": .string(discord)]]])
            #expect(put.status == .ok, "\(put.text)")
            #expect(!put.text.contains("secret"))
            #expect(
                put.json == [
                    "webhooks": [
                        ["provider": "slack", "url": "https://hooks.slack.com/********", "name": "#front-desk"],
                        ["provider": "discord", "url": "https://discord.com/********"],
                    ]
                ])
            let get = try await api.send(.get, "/v1/settings/chat", auth: key)
            #expect(get.json == put.json)

            // What a settings page read can be sent back reordered: the stored URLs are kept.
            guard case .array(let shown)? = get["webhooks"] else { Issue.record("no webhooks"); return }
            let reordered = try await api.send(.put, "/v1/settings/chat", auth: key, json: ["webhooks": .array(shown.reversed())])
            #expect(reordered.status == .ok, "\(reordered.text)")

            let bad = try await api.send(
                .put, "/v1/settings/chat", auth: key,
                json: [
                    "webhooks": [
                        ["provider": "mattermost", "url": "https://chat.example.com/hooks/1"],
                        ["provider": "slack", "url": "ftp://hooks.slack.com/x"],
                        ["url": "https://chat.example.com/hooks/2"],
                        ["provider": "teams", "url": "https://hooks.slack.com/services/x"],
                        ["provider": "slack", "url": "https://hooks.slack.com/********"],
                    ]
                ])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.headers[.contentType] == "application/problem+json")
            #expect(bad["field"] == "webhooks[0].provider", "\(bad.text)")
            #expect(bad.text.contains("is not one of slack, teams, discord"))
            let fixedFirst = try await api.send(
                .put, "/v1/settings/chat", auth: key,
                json: [
                    "webhooks": [
                        ["provider": "slack", "url": "ftp://hooks.slack.com/x"],
                        ["url": "https://chat.example.com/hooks/2"],
                        ["provider": "teams", "url": "https://hooks.slack.com/services/x"],
                        ["provider": "slack", "url": "https://hooks.example.com/********"],
                    ]
                ])
            let fields = fixedFirst["errors"].flatMap { errors -> [String]? in
                guard case .array(let list) = errors else { return nil }
                return list.compactMap { $0["field"]?.stringValue }
            }
            #expect(fields == ["webhooks[0].url", "webhooks[1].provider", "webhooks[2].provider", "webhooks[3].url"], "\(fixedFirst.text)")

            // The stored settings are untouched by the refused PUTs, in the reordered order.
            let stored = try await engine.chatSettings(tenantID: try #require(try await engine.store.tenants().first?.id))
            #expect(stored.webhooks.map(\.url) == [discord, slack])

            #expect(try await api.send(.delete, "/v1/settings/chat", auth: key).status == .noContent)
            #expect(try await api.send(.get, "/v1/settings/chat", auth: key).json == ["webhooks": []])
        }
    }

    @Test func subscriberChatFieldsAreCheckedOnUpsert() async throws {
        let engine = try await Self.engine()
        try await engine.testAPI { api in
            let (_, key) = try await api.createTenant("Maple Court")
            let badProvider = try await api.send(
                .put, "/v1/subscribers/ana", auth: key,
                json: ["data": ["chat_webhook_url": "https://chat.example.com/hooks/1", "chat_provider": "irc"]])
            #expect(badProvider.status == .unprocessableContent)
            #expect(badProvider["field"] == "data.chat_provider", "\(badProvider.text)")
            let unknownHost = try await api.send(
                .put, "/v1/subscribers/ana", auth: key, json: ["data": ["chat_webhook_url": "https://chat.example.com/hooks/1"]])
            #expect(unknownHost["field"] == "data.chat_provider", "\(unknownHost.text)")
            let badURL = try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["data": ["chat_webhook_url": "hooks.slack.com/x"]])
            #expect(badURL["field"] == "data.chat_webhook_url", "\(badURL.text)")
            let good = try await api.send(
                .put, "/v1/subscribers/ana", auth: key, json: ["data": ["chat_webhook_url": "https://hooks.slack.com/services/T0/B0/x"]])
            #expect(good.status == .created || good.status == .ok, "\(good.text)")
        }
    }
}

extension MessageStatus {
    /// No longer waiting to be sent.
    var isFinal: Bool { ![.queued, .sending].contains(self) }
}
