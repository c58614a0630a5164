import Foundation
import Herald
import Testing

/// The push channel end to end: the dispatcher sends each push message to every active device of its
/// subscriber through the real wire formats (an HTTP/2 APNs server that verifies ES256 provider tokens, an FCM
/// server with Google's OAuth exchange, a Web Push receiver that decrypts with `http_ece` and checks VAPID with
/// `py_vapid`), and retires devices their provider reports gone.
@Suite("Push delivery to phones and browsers", .serialized)
struct PushDeliveryTests {
    static let shiftChange = EventType(
        key: "shift_change", name: "Shift change", priority: .medium, channels: [.push],
        parameters: ["ward": ParameterSpec(type: .string)],
        templates: [.push: ["en": ["title": "Shift change on {{ward}}", "body": "Your shift on {{ward}} moved.", "url": "https://app.example/shifts",
                                   "data": #"{"ward": "{{ward}}"}"#, "collapse": "shift-{{ward}}"]]])
    static let codeBlue = EventType(
        key: "code_blue", name: "Code blue", priority: .critical, channels: [.push],
        parameters: ["ward": ParameterSpec(type: .string)],
        templates: [.push: ["en": ["title": "Code blue: {{ward}}", "body": "Report to {{ward}} now."]]])
    static let digestNews = EventType(
        key: "newsletter", name: "Newsletter", priority: .low, channels: [.push],
        parameters: ["issue": ParameterSpec(type: .string)],
        templates: [.push: ["en": ["title": "Issue {{issue}}", "body": "A new issue is out."]]])

    struct Servers {
        var apns: APNsTestServer
        var fcm: FCMTestServer
        var web: WebPushReceiver

        func stop() {
            apns.stop()
            fcm.stop()
            web.stop()
        }
    }

    static func servers() async throws -> Servers {
        async let apns = APNsTestServer.start()
        async let fcm = FCMTestServer.start()
        async let web = WebPushReceiver.start()
        return Servers(apns: try await apns, fcm: try await fcm, web: try await web)
    }

    static func engine(_ servers: Servers, backend: StoreBackend = .sqlite) async throws -> (HeraldEngine, String) {
        let engine = try await TestEngine.make(on: backend) { configuration in
            configuration.outbound.allowPrivateNetworks = true
            configuration.push.trustedCertificatesPEM = servers.apns.certificatePEM
        }
        let (tenant, _) = try await engine.createTenant(name: "St Mary's")
        for type in [shiftChange, codeBlue, digestNews] { try await engine.putEventType(tenantID: tenant.id, type) }
        try await engine.putPushSettings(
            tenantID: tenant.id,
            PushSettings(
                apns: PushSettings.APNs(
                    credentials: servers.apns.credentials, bundleID: APNsTestServer.topic, baseURL: servers.apns.baseURL.absoluteString,
                    sandboxBaseURL: servers.apns.baseURL.absoluteString),
                fcm: PushSettings.FCM(serviceAccount: servers.fcm.account, baseURL: servers.fcm.baseURL.absoluteString),
                webpush: PushSettings.WebPush(subject: "mailto:ops@stmarys.example")))
        return (engine, tenant.id)
    }

    /// A subscriber with an iPhone, an Android phone and a browser.
    static func threeDevices(_ engine: HeraldEngine, tenantID: String, servers: Servers, id: String = "ana", quietHours: QuietHours? = nil)
        async throws -> (apns: PushDevice, fcm: PushDevice, web: PushDevice)
    {
        _ = try await engine.upsertSubscriber(tenantID: tenantID, SubscriberInput(id: id, name: "Ana", timezone: "UTC", quietHours: quietHours))
        let apns = try await engine.registerPushDevice(
            tenantID: tenantID, subscriberID: id, NewPushDevice(platform: .apns, token: APNsTestServer.deviceToken(), environment: .sandbox))
        let fcm = try await engine.registerPushDevice(
            tenantID: tenantID, subscriberID: id, NewPushDevice(platform: .fcm, token: FCMTestServer.registrationToken()))
        let subscription = try #require(try await servers.web.subscriptions(1).first)
        let web = try await engine.registerPushDevice(
            tenantID: tenantID, subscriberID: id, NewPushDevice(platform: .webpush, subscription: subscription.webPush))
        return (apns, fcm, web)
    }

    static func trigger(_ engine: HeraldEngine, tenantID: String, type: String, to id: String, _ payload: [String: JSONValue]) async throws
        -> (Message, [DeliveryAttempt])
    {
        let (receipt, _) = try await engine.trigger(Trigger(type: type, recipients: [.subscriber(id)], payload: payload), tenantID: tenantID)
        return try #require(try await engine.settledMessages(tenantID: tenantID, eventID: receipt.eventId).first)
    }

    @Test(arguments: StoreBackend.available)
    func oneMessageReachesAPhoneAnAndroidAndABrowserWithAnAttemptEachAndAGoneDeviceIsRetired(_ backend: StoreBackend) async throws {
        let servers = try await Self.servers()
        defer { servers.stop() }
        let (engine, tenantID) = try await Self.engine(servers, backend: backend)
        let devices = try await Self.threeDevices(engine, tenantID: tenantID, servers: servers)
        try await engine.whileRunning {
            let (message, attempts) = try await Self.trigger(engine, tenantID: tenantID, type: "shift_change", to: "ana", ["ward": "4B"])
            #expect(message.status == .sent)
            #expect(attempts.count == 3 && attempts.allSatisfy { $0.outcome == .sent }, "\(attempts.map(\.detail))")
            #expect(Set(attempts.compactMap { $0.detail?.split(separator: " ").first.map(String.init) }) == ["apns", "fcm", "webpush"])

            // What each provider received.
            let apnsRequests = try servers.apns.requests()
            #expect(apnsRequests.count == 1 && apnsRequests.allSatisfy(\.verified))
            let aps = apnsRequests.first?.json?["aps"]
            #expect(aps?["alert"]?["title"] == "Shift change on 4B")
            #expect(apnsRequests.first?.headers["apns-priority"] == "5", "not critical: normal priority, so the phone may batch it")
            #expect(apnsRequests.first?.headers["apns-collapse-id"] == "shift-4B")
            let fcmSends = try servers.fcm.records().filter { $0.path.hasSuffix("messages:send") }
            #expect(fcmSends.count == 1 && fcmSends.allSatisfy(\.verified))
            #expect(fcmSends.first?.json?["message"]?["notification"]?["title"] == "Shift change on 4B")
            #expect(try await servers.fcm.counters().exchanges == 1)
            let webPushes = try await servers.web.pushes()
            #expect(webPushes.count == 1 && webPushes.allSatisfy(\.verified), "\(webPushes.map(\.vapidError))")
            #expect(webPushes.first?.payload?["title"] == "Shift change on 4B" && webPushes.first?.payload?["body"] == "Your shift on 4B moved.")
            #expect(webPushes.first?.payload?["data"]?["ward"] == "4B")
            #expect(webPushes.first?.urgency == "normal")

            // The browser's subscription is gone: the message still goes out, and the device is retired with the reason.
            let subscriptionID = try #require(webPushes.first?.subscription)
            try await servers.web.answer([subscriptionID], status: 410)
            let (second, secondAttempts) = try await Self.trigger(engine, tenantID: tenantID, type: "shift_change", to: "ana", ["ward": "5C"])
            #expect(second.status == .sent, "one device failing permanently does not fail the message")
            #expect(secondAttempts.count == 3)
            #expect(secondAttempts.contains { $0.outcome == .permanentFailure && ($0.detail ?? "").contains("gone") })
            let after = try await engine.pushDevices(tenantID: tenantID, subscriberID: "ana")
            let retired = try #require(after.first { $0.id == devices.web.id })
            #expect(!retired.active && (retired.deactivatedReason ?? "").contains("410"))

            // The next event skips it.
            let (_, thirdAttempts) = try await Self.trigger(engine, tenantID: tenantID, type: "shift_change", to: "ana", ["ward": "6D"])
            #expect(thirdAttempts.count == 2)
            #expect(thirdAttempts.last?.detail?.contains("webpush …") == true && thirdAttempts.last?.detail?.contains("skipped, deactivated: ") == true && thirdAttempts.last?.detail?.contains("410") == true,
                "\(thirdAttempts.map(\.detail))")
            #expect(try await servers.web.pushes().count == 2, "nothing more was sent to the retired subscription")

            // FCM says the Android token is UNREGISTERED: retired the same way, and the next event skips it, saying why.
            try await servers.fcm.fail(token: try #require(devices.fcm.token), error: "UNREGISTERED")
            let (fourth, _) = try await Self.trigger(engine, tenantID: tenantID, type: "shift_change", to: "ana", ["ward": "7E"])
            #expect(fourth.status == .sent)
            let (_, fifthAttempts) = try await Self.trigger(engine, tenantID: tenantID, type: "shift_change", to: "ana", ["ward": "8F"])
            #expect(fifthAttempts.count == 1 && fifthAttempts.first?.detail?.hasPrefix("apns") == true)
            #expect(fifthAttempts.last?.detail?.contains("fcm …") == true && fifthAttempts.last?.detail?.contains("UNREGISTERED") == true,
                "\(fifthAttempts.map(\.detail))")
        }
    }

    @Test func aCriticalAlertGoesAtOnceWithTheHighestPriorityDuringQuietHoursALowOneWaitsAndAnOptOutGetsNothing() async throws {
        let servers = try await Self.servers()
        defer { servers.stop() }
        let (engine, tenantID) = try await Self.engine(servers)
        // Quiet all day but the current minute's neighbourhood is irrelevant: 00:00–23:59 covers now.
        _ = try await Self.threeDevices(engine, tenantID: tenantID, servers: servers, quietHours: QuietHours(start: "00:00", end: "23:59"))
        try await engine.whileRunning {
            let (alarm, attempts) = try await Self.trigger(engine, tenantID: tenantID, type: "code_blue", to: "ana", ["ward": "ICU"])
            #expect(alarm.status == .sent && attempts.count == 3)
            let apns = try #require(try servers.apns.requests().last)
            #expect(apns.headers["apns-priority"] == "10")
            #expect(apns.json?["aps"]?["interruption-level"] == "time-sensitive", "no critical-alerts entitlement configured")
            let fcm = try #require(try servers.fcm.records().last { $0.path.hasSuffix("messages:send") })
            #expect(fcm.json?["message"]?["android"]?["priority"] == "high" || fcm.json?["message"]?["android"]?["priority"] == "HIGH")
            #expect(try await servers.web.pushes().last?.urgency == "high")

            // Low priority waits for the end of quiet hours.
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "newsletter", recipients: [.subscriber("ana")], payload: ["issue": "12"]), tenantID: tenantID)
            try await Task.sleep(for: .milliseconds(500))
            let held = try #require(try await engine.eventDetails(tenantID: tenantID, id: receipt.eventId).messages.first)
            #expect(held.status == .queued && held.heldUntil != nil, "\(held.status) \(String(describing: held.reason))")

            // An opted-out subscriber gets no push for that type.
            _ = try await engine.setPreferences(
                tenantID: tenantID, subscriberID: "ana", rules: [PreferenceRule(eventType: "shift_change", channel: "push", enabled: false)],
                replace: false)
            let (optedOut, _) = try await Self.trigger(engine, tenantID: tenantID, type: "shift_change", to: "ana", ["ward": "2A"])
            #expect(optedOut.status == .suppressed && optedOut.reason == "preference")
        }
    }

    @Test func malformedTokensAndKeysAreRefusedNamingTheFieldAndKeysNeverShow() async throws {
        let engine = try await TestEngine.make()
        let (tenant, _) = try await engine.createTenant(name: "Keys")
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "s"))
        let cases: [(NewPushDevice, String)] = [
            (NewPushDevice(platform: .apns, token: "not-hex"), "token"),
            (NewPushDevice(platform: .fcm, token: "bad token with spaces"), "token"),
            (NewPushDevice(platform: .webpush, subscription: WebPushSubscription(endpoint: "https://push.example/x", p256dh: "AAAA", auth: "short")),
             "subscription.keys.p256dh"),
            (NewPushDevice(platform: .webpush), "subscription"),
        ]
        for (device, field) in cases {
            await #expect {
                try await engine.registerPushDevice(tenantID: tenant.id, subscriberID: "s", device)
            } throws: { "\($0)".contains(field) }
        }
        let secret = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRET\n-----END PRIVATE KEY-----"
        await #expect {
            try await engine.putPushSettings(
                tenantID: tenant.id, PushSettings(apns: .init(credentials: APNsCredentials(keyID: "ABC123DEFG", teamID: "DEF123GHIJ", privateKeyPEM: secret))))
        } throws: { "\($0)".contains("apns.private_key") && !"\($0)".contains("SECRETSECRET") }
        let valid = APNsCredentials(keyID: "ABC123DEFG", teamID: "DEF123GHIJ", privateKeyPEM: P256Key.pem())
        let stored = try await engine.putPushSettings(tenantID: tenant.id, PushSettings(apns: .init(credentials: valid, bundleID: "com.example.app")))
        #expect(JSONCoding.encodeText(stored.redacted).contains("BEGIN") == false)
        // Sent back as read, the stored key is kept.
        let again = try await engine.putPushSettings(tenantID: tenant.id, stored.redacted)
        #expect(again.apns?.credentials.privateKeyPEM == valid.privateKeyPEM)
    }
}

import Crypto

enum P256Key {
    static func pem() -> String { P256.Signing.PrivateKey().pemRepresentation }
}

/// Many pushes through the engine to the APNs test server. 3,000 here, in a debug build beside the rest of the suite;
/// the 10,000 of the acceptance run against the release binary (`scripts/push_throughput.py`, docs/performance.md),
/// and APNsTests sends 10,000 through the sender itself.
@Suite("Push at volume", .serialized)
struct PushVolumeTests {
    @Test func thousandsOfPushesReachTheirDevicesOnceOverAFewConnectionsWithOneToken() async throws {
        let servers = try await PushDeliveryTests.servers()
        defer { servers.stop() }
        let (engine, tenantID) = try await PushDeliveryTests.engine(servers)
        let count = 3_000
        _ = try await engine.upsertTopic(tenantID: tenantID, key: "ward", name: nil)
        var tokens: [String] = []
        for start in stride(from: 0, to: count, by: 5000) {
            let inputs = (start..<min(count, start + 5000)).map { SubscriberInput(id: "n\($0)", timezone: "UTC") }
            _ = try await engine.upsertSubscribers(tenantID: tenantID, inputs)
            _ = try await engine.addTopicMembers(tenantID: tenantID, key: "ward", subscriberIDs: inputs.map(\.id))
        }
        try await withThrowingTaskGroup(of: String.self) { group in
            for lane in 0..<8 {
                group.addTask {
                    var made: [String] = []
                    for index in stride(from: lane, to: count, by: 8) {
                        let token = APNsTestServer.deviceToken()
                        _ = try await engine.registerPushDevice(tenantID: tenantID, subscriberID: "n\(index)", NewPushDevice(platform: .apns, token: token))
                        made.append(token)
                    }
                    return made.joined(separator: "\n")
                }
            }
            for try await lane in group { tokens += lane.split(separator: "\n").map(String.init) }
        }
        let started = ContinuousClock.now
        try await engine.whileRunning {
            let (receipt, _) = try await engine.trigger(
                Trigger(type: "shift_change", recipients: [.topic("ward")], payload: ["ward": "4B"]), tenantID: tenantID)
            // A busy server may be slow to answer its control port; a slow answer is not a failed poll.
            #expect(try await engine.eventually(timeout: 240) { ((try? await servers.apns.counters())?.requests ?? 0) >= count })
            _ = receipt
        }
        let elapsed = ContinuousClock.now - started
        let counters = try await servers.apns.counters()
        let received = try servers.apns.requests()
        #expect(received.count == count && counters.verified == count)
        #expect(Set(received.compactMap(\.token)) == Set(tokens), "each device exactly once")
        #expect(counters.connections <= 4, "one multiplexed HTTP/2 connection, or a few: \(counters.connections)")
        #expect(counters.distinctJwts <= 2, "the provider token is reused, not one per request: \(counters.distinctJwts)")
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("push volume: \(count) APNs pushes in \(String(format: "%.1f", seconds)) s (\(Int(Double(count) / seconds))/s) over \(counters.connections) connection(s), \(counters.distinctJwts) JWT(s)")
    }
}
