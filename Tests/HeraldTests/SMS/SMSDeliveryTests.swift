import Foundation
import Herald
import Testing

/// The SMS channel end to end: Herald's dispatcher sending through a fake Twilio Messages API and a fake
/// JSON gateway (scripts/provider_test_server.py), which check Basic auth, form fields and JSON, count
/// segments on their own, and answer with Twilio's real shapes (201 message, 400 code 21211, 401 code
/// 20003, 500).
@Suite("SMS delivery through Twilio-compatible and JSON providers", .serialized)
struct SMSDeliveryTests {
    typealias Account = ProviderTestServer.TwilioAccount

    static let gateCode = EventType(
        key: "gate_code", name: "Gate code", priority: .high, channels: [.sms], parameters: ["message": ParameterSpec(type: .string)],
        templates: [.sms: ["en": ["text": "{{message}}"]]])

    static func engine(_ configure: @escaping (inout HeraldConfiguration) -> Void = { _ in }) async throws -> HeraldEngine {
        try await TestEngine.make { configuration in
            configuration.outbound.allowPrivateNetworks = true
            configuration.outbound.timeoutSeconds = 5
            configuration.dispatch.leaseSeconds = 30
            configure(&configuration)
        }
    }

    static func twilio(_ server: ProviderTestServer, _ account: Account, token: String? = nil, name: String? = nil) -> SMSProviderConfiguration {
        .twilio(accountSID: account.sid, authToken: token ?? account.token, from: "+15017122661", baseURL: server.twilioBaseURL, name: name)
    }

    static func json(_ server: ProviderTestServer) -> SMSProviderConfiguration {
        .json(url: server.jsonURL, from: "Herald", authHeader: "X-Api-Key", authValue: "json-key", name: "backup")
    }

    /// A tenant with the `gate_code` type, its SMS settings, and subscribers with the given phone numbers (`p0`, `p1`, …).
    static func tenant(_ engine: HeraldEngine, settings: SMSSettings?, phones: [String]) async throws -> String {
        let (tenant, _) = try await engine.createTenant(name: "Maple Court")
        try await engine.putEventType(tenantID: tenant.id, gateCode)
        if let settings { try await engine.putSMSSettings(tenantID: tenant.id, settings) }
        for (index, phone) in phones.enumerated() {
            _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "p\(index)", phone: phone))
        }
        return tenant.id
    }

    static func send(_ engine: HeraldEngine, tenantID: String, to ids: [String], message: String) async throws -> String {
        try await engine.trigger(
            Trigger(type: "gate_code", recipients: ids.map(Recipient.subscriber), payload: ["message": .string(message)]), tenantID: tenantID
        ).0.eventId
    }

    @Test func twilioGetsAnAuthenticatedFormPostAndCountsTheSameSegments() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let tenantID = try await Self.tenant(
            engine, settings: SMSSettings(providers: [Self.twilio(server, .primary)], maxSegments: 3), phones: ["+447700900123", "+33612345678"])
        let short = "Code 4417 for the north gate & car park: 100% valid until 10:30 [€2 fee]"
        let long = String(repeating: "Посетитель у северных ворот. ", count: 10)  // 290 UCS-2 characters: 5 segments
        try await engine.whileRunning {
            let first = try await Self.send(engine, tenantID: tenantID, to: ["p0"], message: short)
            let second = try await Self.send(engine, tenantID: tenantID, to: ["p1"], message: long)
            let (shortMessage, shortAttempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: first).first)
            let (longMessage, longAttempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: second).first)
            #expect(shortMessage.status == .sent && longMessage.status == .sent)
            let shortDetail = shortAttempts.first?.detail ?? ""
            #expect(shortDetail.hasPrefix("via twilio 127.0.0.1:\(server.port): SM"), "\(shortDetail)")
            #expect(shortDetail.hasSuffix("queued (Twilio counts 1 segment); 1 segment, GSM-7"), "\(shortDetail)")
            #expect(longAttempts.first?.detail?.hasSuffix("(Twilio counts 3 segments); 3 segments, UCS-2, cut from 5") == true, "\(longAttempts)")
        }
        let received = try server.requests(provider: "twilio")
        #expect(received.count == 2 && received.allSatisfy { $0.status == 201 })
        #expect(received.allSatisfy { $0.path == ProviderTestServer.twilioPath(.primary) })
        #expect(received.allSatisfy { $0.headers["content-type"] == "application/x-www-form-urlencoded" })
        let shortForm = try #require(received.first { $0.form?["To"] == "+447700900123" }?.form)
        #expect(
            shortForm == ["To": "+447700900123", "From": "+15017122661", "Body": short], "Python's form decoder reads back exactly what was meant")
        let longRequest = try #require(received.first { $0.form?["To"] == "+33612345678" })
        let body = try #require(longRequest.form?["Body"])
        #expect(body.hasSuffix("…") && long.hasPrefix(String(body.dropLast())))
        #expect(longRequest.segments == 3 && longRequest.encoding == "UCS-2", "the server's own count agrees with Herald's")
        #expect(SMSText(body).segments == longRequest.segments)
    }

    @Test func theSecondaryDeliversWhenThePrimaryIsDownOrRefusesTheAccount() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        // The primary's token is wrong: Twilio answers 401, code 20003, and the JSON gateway takes the message.
        let tenantID = try await Self.tenant(
            engine, settings: SMSSettings(providers: [Self.twilio(server, .primary, token: "wrong"), Self.json(server)]), phones: ["+447700900123"])
        try await engine.whileRunning {
            let eventID = try await Self.send(engine, tenantID: tenantID, to: ["p0"], message: "Code 4417")
            let (message, attempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: eventID).first)
            #expect(message.status == .sent && attempts.count == 1)
            let detail = attempts.first?.detail ?? ""
            #expect(
                detail.hasPrefix(
                    "via json 127.0.0.1:\(server.port) (backup) (twilio 127.0.0.1:\(server.port): HTTP 401, Twilio error 20003: Authenticate"),
                "\(detail)")
            #expect(!detail.contains("wrong") && !detail.contains("json-key"), "no secret in the attempt log")
        }
        #expect(try server.requests().map(\.status) == [401, 202])
        let gateway = try #require(try server.requests(provider: "json").first)
        #expect(gateway.headers["x-api-key"] == "json-key")
        #expect(gateway.json == ["to": "+447700900123", "from": "Herald", "text": "Code 4417"])

        // Now the primary is reachable but failing with 500s: the secondary still delivers, each time.
        try await engine.putSMSSettings(tenantID: tenantID, SMSSettings(providers: [Self.twilio(server, .primary), Self.json(server)]))
        try await server.fail(prefix: ProviderTestServer.twilioPath(.primary), status: 500)
        try await engine.whileRunning {
            let eventID = try await Self.send(engine, tenantID: tenantID, to: ["p0"], message: "Code 5521")
            let (message, attempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: eventID).first)
            #expect(message.status == .sent)
            #expect(attempts.first?.detail?.contains("twilio 127.0.0.1:\(server.port): HTTP 500, Twilio error 20500") == true, "\(attempts)")
        }
        #expect(try server.requests().suffix(2).map(\.status) == [500, 202])
    }

    @Test func aPrimaryThatDoesNotAnswerInTimeFailsOverToTheSecondary() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        // The timeout leaves the secondary room to answer on a loaded machine; the primary takes far longer.
        let engine = try await Self.engine { $0.outbound.timeoutSeconds = 1.5 }
        let tenantID = try await Self.tenant(
            engine, settings: SMSSettings(providers: [Self.twilio(server, .primary), Self.json(server)]), phones: ["+447700900123"])
        try await server.fail(prefix: ProviderTestServer.twilioPath(.primary), status: 0, delay: 8)
        try await engine.whileRunning {
            let eventID = try await Self.send(engine, tenantID: tenantID, to: ["p0"], message: "Code 4417")
            let (message, attempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: eventID).first)
            #expect(message.status == .sent && attempts.count == 1)
            #expect(attempts.first?.detail?.contains("twilio 127.0.0.1:\(server.port): no answer within 1.5 s") == true, "\(attempts)")
            // Waited for, the primary would take 8 s; abandoned, 1.5 s and the secondary's answer (4.7 s was seen
            // with six suites running side by side on two cores, so the bound leaves room for a loaded machine).
            #expect((attempts.first?.durationMs ?? 0) < 6500, "the slow primary was abandoned, not waited for")
        }
        #expect(try server.requests(provider: "json").count == 1)
    }

    @Test func anInvalidNumberFailsOnceAndIsNotTriedOnTheSecondary() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        // +15005550001 is E.164, so Herald sends it; Twilio refuses it as an invalid To (21211).
        let tenantID = try await Self.tenant(
            engine, settings: SMSSettings(providers: [Self.twilio(server, .primary), Self.json(server)]), phones: ["+15005550001", "+447700900123"])
        try await engine.whileRunning {
            let eventID = try await Self.send(engine, tenantID: tenantID, to: ["p0", "p1"], message: "Code 4417")
            let messages = try await engine.settledMessages(tenantID: tenantID, eventID: eventID)
            #expect(messages.map(\.0.status) == [.failed, .sent])
            let (failed, attempts) = messages[0]
            #expect(failed.reason == "rejected" && attempts.count == 1 && attempts.first?.outcome == .permanentFailure)
            #expect(attempts.first?.detail?.contains("Twilio error 21211: Invalid 'To' Phone Number: +15005550001") == true, "\(attempts)")
        }
        #expect(try server.requests(provider: "json").isEmpty, "a recipient error is not retried on the secondary")
        #expect(try server.requests(provider: "twilio").compactMap(\.status).sorted() == [201, 400])
    }

    @Test func anOpenCircuitSkipsThePrimaryAndThenDefersWithoutUsingAttempts() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine { configuration in
            configuration.outbound.circuit = CircuitBreaker.Settings(failureThreshold: 2, openSeconds: 30, maxOpenSeconds: 30)
            configuration.dispatch.workers = 1
        }
        let tenantID = try await Self.tenant(
            engine, settings: SMSSettings(providers: [Self.twilio(server, .primary), Self.twilio(server, .secondary, name: "spare")]),
            phones: (0..<6).map { "+4477009001\($0)0" })
        try await server.fail(prefix: ProviderTestServer.twilioPath(.primary), status: 503)
        try await engine.whileRunning {
            // One at a time, so the circuit's count is predictable: two 503s open it, then the primary is skipped.
            for index in 0..<6 {
                let eventID = try await Self.send(engine, tenantID: tenantID, to: ["p\(index)"], message: "Code \(index)")
                let (message, attempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: eventID).first)
                #expect(message.status == .sent && attempts.count == 1)
                #expect(attempts.first?.detail?.hasPrefix("via twilio 127.0.0.1:\(server.port) (spare)") == true)
                if index >= 2 { #expect(attempts.first?.detail?.contains("circuit open") == true, "\(attempts)") }
            }
        }
        #expect(try server.requests(provider: "twilio").filter { $0.path == ProviderTestServer.twilioPath(.primary) }.count == 2)
        #expect(try server.requests(provider: "twilio").filter { $0.path == ProviderTestServer.twilioPath(.secondary) }.count == 6)

        // With the secondary down too, its circuit opens and messages wait without using their attempts.
        try await server.fail(prefix: ProviderTestServer.twilioPath(.secondary), status: 503)
        try await engine.whileRunning {
            let eventID = try await Self.send(engine, tenantID: tenantID, to: ["p0"], message: "Code 9")
            let id = try #require(try await engine.eventDetails(tenantID: tenantID, id: eventID).messages.first?.id)
            #expect(
                try await engine.eventually(timeout: 10) {
                    try await engine.message(tenantID: tenantID, id: id).1.contains { $0.outcome == .deferred }
                })
            let (message, attempts) = try await engine.message(tenantID: tenantID, id: id)
            #expect(message.attempts == 2 && [.queued, .sending].contains(message.status), "two 503s used two attempts; deferrals use none")
            #expect(attempts.filter { $0.outcome == .transientFailure }.count == 2)
            let deferred = try #require(attempts.last { $0.outcome == .deferred })
            #expect(
                deferred.detail?.contains("twilio 127.0.0.1:\(server.port): circuit open; twilio 127.0.0.1:\(server.port) (spare): circuit open")
                    == true, "\(deferred)")
        }
        // Both circuits are named by host and a digest (no account SID); the public /metrics counts them by kind of
        // transport only, with neither the host nor the SID.
        let keys = engine.circuits.snapshot().map(\.key)
        #expect(keys.count == 2 && keys.allSatisfy { $0.hasPrefix("sms twilio 127.0.0.1:\(server.port) #") }, "\(keys)")
        let exposition = try await engine.metricsExposition()
        #expect(exposition.contains("herald_circuits_open{transport=\"sms\"} 2"), "\(exposition)")
        #expect(!exposition.contains("127.0.0.1:\(server.port)"))
        #expect(!exposition.contains(Account.primary.sid) && !exposition.contains(Account.secondary.sid))
    }

    @Test func aThousandMessagesToATopicGoOutOnceEach() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let count = 1000
        let phones = (0..<count).map { String(format: "+4477009%05d", $0) }
        let tenantID = try await Self.tenant(engine, settings: SMSSettings(providers: [Self.twilio(server, .primary)]), phones: [])
        _ = try await engine.upsertSubscribers(tenantID: tenantID, phones.enumerated().map { SubscriberInput(id: "p\($0)", phone: $1) })
        _ = try await engine.upsertTopic(tenantID: tenantID, key: "all", name: nil)
        _ = try await engine.addTopicMembers(tenantID: tenantID, key: "all", subscriberIDs: (0..<count).map { "p\($0)" })
        let started = Date()
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "gate_code", recipients: [.topic("all")], payload: ["message": "Water off 10:00-12:00"]), tenantID: tenantID)
            #expect(
                try await engine.eventually(timeout: 60) {
                    try await engine.store.messageCounts(tenantID: tenantID, eventID: receipt.eventId)["sent"] == count
                })
        }
        let seconds = Date().timeIntervalSince(started)
        print("SMS: \(count) messages through the fake Twilio in \(String(format: "%.2f", seconds)) s (\(Int(Double(count) / seconds))/s)")
        let received = try server.requests(provider: "twilio")
        #expect(received.count == count && received.allSatisfy { $0.status == 201 })
        #expect(Set(received.compactMap { $0.form?["To"] }) == Set(phones), "each number once")
    }

    @Test func aStoredNumberThatIsNotE164FailsWithoutASend() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        let tenantID = try await Self.tenant(engine, settings: SMSSettings(providers: [Self.twilio(server, .primary)]), phones: [])
        // Written straight to the store, as a number saved before validation existed would be.
        _ = try await engine.store.upsertSubscriber(tenantID: tenantID, SubscriberInput(id: "legacy", phone: "07700 900123"))
        try await engine.whileRunning {
            let eventID = try await Self.send(engine, tenantID: tenantID, to: ["legacy"], message: "Code 4417")
            let (message, attempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: eventID).first)
            #expect(message.status == .failed && attempts.count == 1)
            #expect(
                attempts.first?.detail
                    == "the subscriber's phone number '07700***0123' is not E.164: it must start with + and the country code (E.164, such as +447700900123)"
            )
        }
        #expect(try server.requests().isEmpty)
    }

    @Test func theServersDefaultProviderComesFromTheEnvironment() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        var configuration = try TestEngine.configuration()
        try configuration.apply(environment: [
            "HERALD_SMS_JSON_URL": server.jsonURL, "HERALD_SMS_JSON_AUTH_HEADER": "X-Api-Key", "HERALD_SMS_JSON_AUTH_VALUE": "json-key",
            "HERALD_SMS_JSON_FROM": "MapleCourt", "HERALD_SMS_MAX_SEGMENTS": "1", "HERALD_ALLOW_PRIVATE_NETWORKS": "true",
        ])
        configuration.dispatch.leaseSeconds = 30
        let engine = try await HeraldEngine(configuration: configuration)
        let tenantID = try await Self.tenant(engine, settings: nil, phones: ["+447700900123"])
        try await engine.whileRunning {
            let eventID = try await Self.send(engine, tenantID: tenantID, to: ["p0"], message: String(repeating: "Gate open. ", count: 20))
            let (message, attempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: eventID).first)
            #expect(message.status == .sent)
            #expect(attempts.first?.detail?.hasSuffix("1 segment, GSM-7, cut from 2") == true, "\(attempts)")
        }
        let received = try #require(try server.requests(provider: "json").first)
        #expect(received.headers["x-api-key"] == "json-key" && received.status == 202)
        #expect(received.json?["from"] == "MapleCourt")
        #expect(received.json?["text"]?.stringValue?.count == 160 && received.segments == 1)

        // The JSON gateway refuses a number (422): permanent, reported with its answer.
        _ = try await engine.upsertSubscriber(tenantID: tenantID, SubscriberInput(id: "bad", phone: "+15005550001"))
        try await engine.whileRunning {
            let eventID = try await Self.send(engine, tenantID: tenantID, to: ["bad"], message: "hi")
            let (message, attempts) = try #require(try await engine.settledMessages(tenantID: tenantID, eventID: eventID).first)
            #expect(message.status == .failed)
            #expect(attempts.first?.detail?.contains(#"HTTP 422: {"error": "invalid recipient"}"#) == true, "\(attempts)")
        }
    }

    @Test func settingsAPIRedactsSecretsKeepsThemOnRoundTripAndNamesBadFields() async throws {
        let server = try await ProviderTestServer.start()
        defer { server.stop() }
        let engine = try await Self.engine()
        try await engine.testAPI { api in
            let (tenantID, key) = try await api.createTenant("Maple Court")
            try await engine.putEventType(tenantID: tenantID, Self.gateCode)
            let none = try await api.send(.get, "/v1/settings/sms", auth: key)
            #expect(none.json == ["providers": [], "effective": ["source": "none", "providers": [], "max_segments": 10]], "\(none.text)")

            let input: JSONValue = [
                "max_segments": 4,
                "providers": [
                    [
                        "type": "twilio", "account_sid": .string(Account.primary.sid), "auth_token": .string(Account.primary.token),
                        "from": "+15017122661", "base_url": .string(server.twilioBaseURL),
                    ],
                    ["type": "json", "url": .string(server.jsonURL), "auth_header": "X-Api-Key", "auth_value": "json-key", "name": "backup"],
                ],
            ]
            let put = try await api.send(.put, "/v1/settings/sms", auth: key, json: input)
            #expect(put.status == .ok, "\(put.text)")
            #expect(!put.text.contains(Account.primary.token) && !put.text.contains("json-key"))
            #expect(put["providers"].map { "\($0)" }?.contains("********") == true)
            #expect(
                put["effective"] == [
                    "source": "tenant", "max_segments": 4,
                    "providers": [
                        ["type": "twilio", "host": "127.0.0.1", "from": "+15017122661"],
                        ["type": "json", "name": "backup", "host": "127.0.0.1"],
                    ],
                ], "\(put.text)")

            // Sending back what was read keeps the stored secrets: a message still authenticates.
            var echoed = try #require(try await api.send(.get, "/v1/settings/sms", auth: key).json?.objectValue)
            echoed["effective"] = nil
            let again = try await api.send(.put, "/v1/settings/sms", auth: key, json: .object(echoed))
            #expect(again.status == .ok, "\(again.text)")
            let stored = try await engine.smsSettings(tenantID: tenantID)
            #expect(stored.providers.map(\.authToken) == [Account.primary.token, nil])
            #expect(stored.providers.map(\.authValue) == [nil, "json-key"])

            let phone = try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["phone": "+44 7700 900123"])
            #expect(phone.status == .unprocessableContent && phone["field"] == "phone", "\(phone.text)")
            #expect(phone.headers[.contentType] == "application/problem+json")
            #expect(try await api.send(.put, "/v1/subscribers/ana", auth: key, json: ["phone": "+447700900123"]).status == .created)
            let trigger = try await api.send(
                .post, "/v1/events", auth: key, json: ["type": "gate_code", "recipients": ["ana"], "payload": ["message": "hi"]])
            #expect(trigger.status == .accepted, "\(trigger.text)")
            #expect(try await server.waitForRequests(1).first?.status == 201, "the kept token still authenticates")

            let bad = try await api.send(
                .put, "/v1/settings/sms", auth: key,
                json: [
                    "max_segments": 0,
                    "providers": [
                        ["type": "twilio", "account_sid": "AC123", "auth_token": "********", "from": "+0123"],
                        ["type": "json", "auth_value": "x"],
                    ],
                ])
            #expect(bad.status == .unprocessableContent)
            let fields = bad["errors"].flatMap { errors -> [String]? in
                guard case .array(let list) = errors else { return nil }
                return list.compactMap { $0["field"]?.stringValue }
            }
            #expect(
                fields == ["providers[0].account_sid", "providers[0].auth_token", "providers[0].from", "providers[1].url", "max_segments"],
                "\(bad.text)")
            let badType = try await api.send(.put, "/v1/settings/sms", auth: key, json: ["providers": [["type": "nexmo"]]])
            #expect(badType["field"] == "providers[0].type", "\(badType.text)")

            #expect(try await api.send(.delete, "/v1/settings/sms", auth: key).status == .noContent)
            #expect(try await api.send(.get, "/v1/settings/sms", auth: key)["effective"]?["source"] == "none")
        }
    }
}
