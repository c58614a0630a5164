import Foundation
import Herald
import Testing

/// The webhook channel end to end: Herald's dispatcher posting to scripts/webhook_receiver.py on
/// loopback, which checks every request with the official `standardwebhooks` library.
@Suite("Webhook channel against a real receiver", .serialized)
struct WebhookChannelTests {
    @Test func everyDeliveryVerifiesWithTheStandardWebhooksLibraryAndCarriesTheEnvelope() async throws {
        // The receiver knows both secrets; Herald signs with both (a rotation in progress).
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret, WebhookFixtures.otherSecret])
        defer { receiver.stop() }
        let engine = try await WebhookFixtures.engine()
        let tenantID = try await WebhookFixtures.tenant(engine, count: 20)
        _ = try await engine.putWebhookSettings(
            tenantID: tenantID,
            WebhookFixtures.endpoints([receiver.url("/hooks")], secrets: [WebhookFixtures.otherSecret, WebhookFixtures.secret]))
        let eventID = try await engine.whileRunning {
            let eventID = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 7)
            #expect(try await receiver.wait { $0.count >= 20 })
            #expect(
                try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)["delivered"] == 20 })
            return eventID
        }
        let deliveries = try receiver.deliveries()
        #expect(deliveries.count == 20, "one request per message")
        let errors = deliveries.compactMap(\.error)
        #expect(deliveries.allSatisfy { $0.verified }, "\(errors.prefix(3))")
        #expect(deliveries.allSatisfy { $0.verifiedBy == [0, 1] && $0.signatures == 2 }, "one signature per secret, each verifies")
        #expect(deliveries.allSatisfy { $0.contentType == "application/json" })

        // webhook-id is the message id; the envelope names the event, the subscriber and the rendered body.
        let messages = try await WebhookFixtures.messages(engine, tenantID: tenantID)
        #expect(Set(deliveries.compactMap(\.webhookID)) == Set(messages.map(\.id)))
        let first = try #require(deliveries.first?.json)
        #expect(first["type"]?.stringValue == "ping")
        #expect(first["timestamp"]?.stringValue.flatMap(Timestamp.parse) != nil)
        let data = try #require(first["data"])
        #expect(data["event_id"]?.stringValue == eventID)
        #expect(data["event_type"]?.stringValue == "ping")
        #expect(data["message_id"]?.stringValue == deliveries.first?.webhookID)
        #expect(data["priority"]?.stringValue == "medium")
        #expect(data["payload"]?["n"]?.doubleValue == 7)
        let subscriber = try #require(data["subscriber_id"]?.stringValue)
        #expect(data["body"]?["who"]?.stringValue == subscriber, "a JSON body template is embedded as JSON")
        #expect(data["body"]?["note"]?.stringValue == "café \"quoted\"", "payload text is escaped inside the JSON template")
        let timestamps = deliveries.compactMap { $0.webhookTimestamp.flatMap(Double.init) }
        #expect(timestamps.count == 20 && timestamps.allSatisfy { abs($0 - Date().timeIntervalSince1970) < 120 })
    }

    /// Circuit names are labels in the public `/metrics`: never a path or query, which may hold a secret.
    @Test func circuitNamesCarryTheHostButNeverThePath() {
        let endpoint = WebhookCircuit.endpoint("https://hooks.example.com/T0/secret-token?key=qzx")
        #expect(endpoint.hasPrefix("webhook hooks.example.com ") && !endpoint.contains("secret") && !endpoint.contains("qzx"))
        #expect(endpoint != WebhookCircuit.endpoint("https://hooks.example.com/other"), "each tenant endpoint has its own")
        #expect(WebhookCircuit.subscriberHost("http://127.0.0.1:8080/a/b?t=1") == "webhook 127.0.0.1:8080")
        #expect(WebhookCircuit.subscriberHost("https://Hooks.Example.com/a") == WebhookCircuit.subscriberHost("https://hooks.example.com/b"))
    }

    @Test func aTamperedBodyAndAnOldTimestampFailVerification() async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        let engine = try await WebhookFixtures.engine()
        let tenantID = try await WebhookFixtures.tenant(engine, count: 1)
        _ = try await engine.putWebhookSettings(tenantID: tenantID, WebhookFixtures.endpoints([receiver.url("/hooks")]))
        try await engine.whileRunning {
            try await WebhookFixtures.trigger(engine, tenantID: tenantID)
            #expect(try await receiver.wait { $0.count == 1 })
        }
        let delivery = try #require(try receiver.deliveries().first)
        #expect(delivery.verified)
        let headers = [
            "webhook-id": delivery.webhookID ?? "", "webhook-timestamp": delivery.webhookTimestamp ?? "",
            "webhook-signature": try #require(delivery.signature),
        ]
        // The request as Herald sent it still verifies; change one character and it does not.
        #expect(try await receiver.verify(body: delivery.body, headers: headers).verified)
        let tampered = delivery.body.replacingOccurrences(of: "\"n\":7", with: "\"n\":8").replacingOccurrences(of: "ping", with: "pong")
        #expect(tampered != delivery.body)
        let tamperedResult = try await receiver.verify(body: tampered, headers: headers)
        #expect(!tamperedResult.verified && tamperedResult.error?.contains("No matching signature") == true, "\(tamperedResult)")
        // Another timestamp under the same signature does not verify either.
        var shifted = headers
        shifted["webhook-timestamp"] = String((Int(delivery.webhookTimestamp ?? "0") ?? 0) - 1)
        #expect(try await receiver.verify(body: delivery.body, headers: shifted).verified == false)
        // Correctly signed, but ten minutes old: refused as a possible replay.
        let body = Array(delivery.body.utf8)
        let old = Date().addingTimeInterval(-600)
        let oldHeaders = Dictionary(
            uniqueKeysWithValues: WebhookSigner.headers(id: "msg_old", timestamp: old, body: body, secrets: [WebhookSecret(WebhookFixtures.secret)!]))
        let oldResult = try await receiver.verify(body: delivery.body, headers: oldHeaders)
        #expect(!oldResult.verified && oldResult.error?.contains("too old") == true, "\(oldResult)")
        // The same signer with the current time verifies: the refusal above is the timestamp's doing.
        let fresh = Dictionary(
            uniqueKeysWithValues: WebhookSigner.headers(
                id: "msg_old", timestamp: Date(), body: body, secrets: [WebhookSecret(WebhookFixtures.secret)!]))
        #expect(try await receiver.verify(body: delivery.body, headers: fresh).verified)
    }

    @Test func theSubscribersOwnURLComesFirstAndIsSignedWithTheSubscriberSecrets() async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        let engine = try await WebhookFixtures.engine()
        let tenantID = try await WebhookFixtures.tenant(engine, count: 4) { index in
            index < 2 ? ["webhook_url": .string("http://127.0.0.1:\(receiver.port)/own/s\(index)")] : nil
        }
        // Before the tenant has subscriber secrets, posts to subscribers' URLs fail instead of going unsigned.
        _ = try await engine.putWebhookSettings(
            tenantID: tenantID, WebhookSettings(endpoints: [WebhookEndpoint(url: receiver.url("/tenant"), secrets: [WebhookFixtures.otherSecret])]))
        let generated = try await engine.webhookSettings(tenantID: tenantID).subscriberSecrets
        #expect(generated.count == 1 && generated[0].hasPrefix("whsec_"), "a PUT without subscriber_secrets generates one")
        try await receiver.setSecrets([generated[0], WebhookFixtures.otherSecret])
        try await engine.whileRunning {
            let eventID = try await WebhookFixtures.trigger(engine, tenantID: tenantID)
            #expect(try await receiver.wait { $0.count >= 4 })
            #expect(
                try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)["delivered"] == 4 })
        }
        let deliveries = try receiver.deliveries()
        #expect(Set(deliveries.map(\.path)) == ["/own/s0", "/own/s1", "/tenant"])
        #expect(try receiver.deliveries(to: "/tenant").count == 2)
        #expect(deliveries.allSatisfy { $0.verified })
        #expect(deliveries.filter { $0.path.hasPrefix("/own") }.allSatisfy { $0.verifiedBy == [0] }, "subscriber URLs: subscriber_secrets")
        #expect(try receiver.deliveries(to: "/tenant").allSatisfy { $0.verifiedBy == [1] }, "tenant endpoints: their own secrets")
        for delivery in deliveries where delivery.path.hasPrefix("/own/") {
            #expect(delivery.json?["data"]?["subscriber_id"]?.stringValue == String(delivery.path.dropFirst(5)))
        }
    }

    @Test func withoutAnyAddressTheMessageIsSuppressedAndWithoutSubscriberSecretsItFails() async throws {
        let engine = try await WebhookFixtures.engine()
        let tenantID = try await WebhookFixtures.tenant(engine, count: 2) { index in
            index == 0 ? ["webhook_url": "http://127.0.0.1:9/own"] : nil
        }
        try await engine.whileRunning {
            let eventID = try await WebhookFixtures.trigger(engine, tenantID: tenantID)
            #expect(
                try await engine.eventually {
                    let counts = try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)
                    return counts["suppressed"] == 1 && counts["failed"] == 1
                })
        }
        let suppressed = try #require(try await WebhookFixtures.messages(engine, tenantID: tenantID, status: .suppressed).first)
        #expect(suppressed.subscriberId == "s1" && suppressed.reason == "no_address")
        let failed = try #require(try await WebhookFixtures.messages(engine, tenantID: tenantID, status: .failed).first)
        #expect(failed.subscriberId == "s0" && failed.lastError?.contains("subscriber_secrets") == true, "\(failed.lastError ?? "")")
    }

    @Test func goneDisablesTheEndpointForGoodAndTheNextEndpointTakesOver() async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        try await receiver.answer("/gone", status: 410, body: "this hook was deleted")
        let engine = try await WebhookFixtures.engine()
        let tenantID = try await WebhookFixtures.tenant(engine, count: 1)
        _ = try await engine.putWebhookSettings(tenantID: tenantID, WebhookFixtures.endpoints([receiver.url("/gone")]))
        try await engine.whileRunning {
            // Alone, a 410 fails the message with a clear reason and disables the endpoint.
            let first = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 1)
            #expect(try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: first)["failed"] == 1 })
            let failed = try #require(try await WebhookFixtures.messages(engine, tenantID: tenantID, status: .failed).first)
            #expect(failed.lastError?.contains("HTTP 410") == true && failed.lastError?.contains("disabled") == true, "\(failed.lastError ?? "")")
            #expect(failed.attempts == 1)
            let stored = try await engine.webhookSettings(tenantID: tenantID).endpoints[0]
            #expect(stored.disabledAt != nil && stored.disabledReason?.contains("HTTP 410: this hook was deleted") == true)

            // Nothing more goes there: with no other endpoint the next message has no address at all.
            let second = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 2)
            #expect(
                try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: second) == ["suppressed": 1] })

            // A secondary added behind the disabled endpoint (sent back as GET showed it) gets everything.
            var settings = try await engine.webhookSettings(tenantID: tenantID).redacted()
            settings.endpoints.append(WebhookEndpoint(url: receiver.url("/secondary")))
            _ = try await engine.putWebhookSettings(tenantID: tenantID, settings)
            #expect(try await engine.webhookSettings(tenantID: tenantID).endpoints[0].disabledAt != nil, "echoing GET keeps it disabled")
            let third = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 3)
            #expect(try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: third)["delivered"] == 1 })
        }
        #expect(try receiver.deliveries(to: "/gone").count == 1, "a disabled endpoint gets no second request")
        #expect(try receiver.deliveries(to: "/secondary").count == 1)
    }

    @Test func aPrimaryThatAnswersGoneHandsTheMessageToTheSecondaryAtOnce() async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        try await receiver.answer("/primary", status: 410)
        let engine = try await WebhookFixtures.engine()
        let tenantID = try await WebhookFixtures.tenant(engine, count: 1)
        _ = try await engine.putWebhookSettings(
            tenantID: tenantID, WebhookFixtures.endpoints([receiver.url("/primary"), receiver.url("/secondary")]))
        try await engine.whileRunning {
            for n in 1...3 {
                let eventID = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: n)
                #expect(
                    try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)["delivered"] == 1 })
            }
        }
        #expect(try receiver.deliveries(to: "/primary").count == 1)
        #expect(try receiver.deliveries(to: "/secondary").count == 3)
        let messages = try await WebhookFixtures.messages(engine, tenantID: tenantID)
        #expect(messages.allSatisfy { $0.attempts == 1 })
    }

    @Test func aSubscribersURLThatAnswersGoneIsMarkedOnTheSubscriber() async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        try await receiver.answer("/own", status: 410)
        let engine = try await WebhookFixtures.engine()
        let tenantID = try await WebhookFixtures.tenant(engine, count: 1) { _ in ["webhook_url": .string("http://127.0.0.1:\(receiver.port)/own")] }
        _ = try await engine.putWebhookSettings(tenantID: tenantID, WebhookFixtures.endpoints([receiver.url("/tenant")]))
        try await engine.whileRunning {
            let first = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 1)
            #expect(try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: first)["failed"] == 1 })
            let subscriber = try await engine.subscriber(tenantID: tenantID, id: "s0")
            #expect(subscriber.data?["webhook_disabled"]?["url"]?.stringValue == receiver.url("/own"))
            #expect(subscriber.data?["webhook_disabled"]?["reason"]?.stringValue?.contains("HTTP 410") == true)
            // Not redirected to the tenant's endpoint: suppressed until the subscriber gets a new URL.
            let second = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 2)
            #expect(
                try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: second) == ["suppressed": 1] })
            var data = subscriber.data ?? [:]
            data["webhook_url"] = .string(receiver.url("/own-new"))
            _ = try await engine.upsertSubscriber(tenantID: tenantID, SubscriberInput(id: "s0", data: data))
            let third = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 3)
            #expect(try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: third)["delivered"] == 1 })
        }
        #expect(try receiver.deliveries(to: "/own").count == 1)
        #expect(try receiver.deliveries(to: "/own-new").count == 1)
        #expect(try receiver.deliveries(to: "/tenant").isEmpty)
    }

    @Test func otherClientErrorsFailAtOnceWhileServerErrorsAndTimeoutsAreRetried() async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        try await receiver.answer("/bad", status: 422, body: "field 'n' is not what we expected")
        try await receiver.answer("/flaky", status: 503)
        try await receiver.answer("/slow", status: 200, delay: 3)
        let engine = try await WebhookFixtures.engine { configuration in
            configuration.outbound.timeoutSeconds = 0.5
            configuration.dispatch.maxAttempts = 20
        }
        let tenantID = try await WebhookFixtures.tenant(engine, count: 3) { index in
            ["webhook_url": .string("http://127.0.0.1:\(receiver.port)/\(["bad", "flaky", "slow"][index])")]
        }
        _ = try await engine.putWebhookSettings(tenantID: tenantID, WebhookSettings(subscriberSecrets: [WebhookFixtures.secret]))
        try await engine.whileRunning {
            let eventID = try await WebhookFixtures.trigger(engine, tenantID: tenantID)
            // The 4xx ends at once; the 503 and the slow receiver keep being tried.
            #expect(try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)["failed"] == 1 })
            #expect(try await receiver.wait { $0.filter { $0.path == "/flaky" }.count >= 3 && $0.filter { $0.path == "/slow" }.count >= 2 })
            let retrying = try await WebhookFixtures.messages(engine, tenantID: tenantID).filter { $0.subscriberId != "s0" }
            #expect(retrying.allSatisfy { $0.status == .queued || $0.status == .sending }, "\(retrying.map(\.status))")
            try await receiver.answer("/flaky", status: 200)
            try await receiver.answer("/slow", status: 200)
            #expect(try await engine.eventually { try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)["delivered"] == 2 })
        }
        let messages = try await WebhookFixtures.messages(engine, tenantID: tenantID)
        // The 0.5 s timeout is short on purpose (for /slow); on a loaded machine the receiver may miss it for /bad or
        // /flaky too, which is a transient failure like any other. What must hold: nothing is tried after the 422,
        // and every try before it, or before the flaky receiver's 200, was a transient failure.
        let bad = try #require(messages.first { $0.subscriberId == "s0" })
        let (_, badAttempts) = try await engine.message(tenantID: tenantID, id: bad.id)
        #expect(bad.status == .failed && badAttempts.last?.outcome == .permanentFailure)
        #expect(badAttempts.dropLast().allSatisfy { $0.detail?.contains("no answer within 0.5 s") == true }, "\(badAttempts.map(\.detail))")
        #expect(bad.lastError?.contains("HTTP 422: field 'n' is not what we expected") == true, "\(bad.lastError ?? "")")
        #expect(try receiver.deliveries(to: "/bad").count == badAttempts.count)
        let (_, flakyAttempts) = try await engine.message(tenantID: tenantID, id: try #require(messages.first { $0.subscriberId == "s1" }).id)
        #expect(flakyAttempts.count >= 3 && flakyAttempts.last?.outcome == .delivered)
        #expect(
            flakyAttempts.dropLast().allSatisfy {
                $0.outcome == .transientFailure && ($0.detail?.contains("HTTP 503") == true || $0.detail?.contains("no answer within 0.5 s") == true)
            })
        #expect(flakyAttempts.contains { $0.detail?.contains("HTTP 503") == true })
        let (_, slowAttempts) = try await engine.message(tenantID: tenantID, id: try #require(messages.first { $0.subscriberId == "s2" }).id)
        #expect(slowAttempts.dropLast().allSatisfy { $0.detail?.contains("no answer within 0.5 s") == true }, "\(slowAttempts.map(\.detail))")
        // Every retry of a message carries the same webhook-id, so the receiver can drop repeats.
        #expect(Set(try receiver.deliveries(to: "/flaky").compactMap(\.webhookID)).count == 1)
    }

    /// Server-side request forgery: a tenant (or a subscriber's data) naming a loopback address gets no
    /// request out of Herald unless the operator allows private networks, or names the host.
    @Test(arguments: [
        (allowPrivate: false, allowedHosts: [String](), delivered: [String]()),
        (allowPrivate: true, allowedHosts: [], delivered: ["/literal", "/name"]),
        (allowPrivate: false, allowedHosts: ["127.0.0.1"], delivered: ["/literal"]),
    ])
    func aLoopbackDestinationIsRefusedUnlessTheOperatorAllowsIt(allowPrivate: Bool, allowedHosts: [String], delivered: [String]) async throws {
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        let engine = try await WebhookFixtures.engine(allowPrivateNetworks: allowPrivate) { $0.outbound.allowedHosts = allowedHosts }
        let urls = ["http://127.0.0.1:\(receiver.port)/literal", "http://localhost:\(receiver.port)/name"]
        let tenantID = try await WebhookFixtures.tenant(engine, count: 0)
        let inputs = urls.enumerated().map { SubscriberInput(id: "s\($0)", name: "Subscriber \($0)", data: ["webhook_url": .string($1)]) }
        // Both are literally loopback, so the save refuses what the operator does not allow ...
        do {
            _ = try await engine.upsertSubscribers(tenantID: tenantID, inputs)
            #expect(delivered.count == 2, "saved although refused")
        } catch HeraldError.invalid(let errors) {
            #expect(errors.count == 2 - delivered.count, "\(errors)")
        }
        // ... and the send refuses it too, for data stored before that check (written straight to the store here).
        _ = try await engine.store.upsertSubscribers(tenantID: tenantID, inputs)
        _ = try await engine.addTopicMembers(tenantID: tenantID, key: "all", subscriberIDs: inputs.map(\.id))
        _ = try await engine.putWebhookSettings(tenantID: tenantID, WebhookSettings(subscriberSecrets: [WebhookFixtures.secret]))
        try await engine.whileRunning {
            let eventID = try await WebhookFixtures.trigger(engine, tenantID: tenantID)
            #expect(
                try await engine.eventually {
                    let counts = try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)
                    return counts["delivered", default: 0] == delivered.count && counts["failed", default: 0] == 2 - delivered.count
                })
        }
        #expect(Set(try receiver.deliveries().map(\.path)) == Set(delivered))
        for message in try await WebhookFixtures.messages(engine, tenantID: tenantID, status: .failed) {
            #expect(message.attempts == 1, "a refused destination is final")
            #expect(
                message.lastError?.contains("destination refused") == true && message.lastError?.contains("loopback") == true,
                "\(message.lastError ?? "")")
        }
    }
}
