import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import Herald

/// APNs with token authentication: the ES256 provider token, the request Herald builds, what Apple's answers mean,
/// and sends over HTTP/2 to scripts/apns_test_server.py, which verifies every token and request as APNs does.
@Suite("APNs sender")
struct APNsTests {
    static func parts(_ jwt: String) throws -> (header: JSONValue, claims: JSONValue, signature: Data, input: String) {
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(parts.count == 3)
        func decode(_ text: String) throws -> Data {
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
            return try #require(Data(base64Encoded: base64))
        }
        let header = try JSONValue.parse(String(decoding: try decode(parts[0]), as: UTF8.self))
        let claims = try JSONValue.parse(String(decoding: try decode(parts[1]), as: UTF8.self))
        return (header, claims, try decode(parts[2]), parts[0] + "." + parts[1])
    }

    static func credentials(_ key: P256.Signing.PrivateKey = P256.Signing.PrivateKey()) -> APNsCredentials {
        APNsCredentials(keyID: "ABC123DEFG", teamID: "DEF123GHIJ", privateKeyPEM: key.pemRepresentation)
    }

    // MARK: Provider token

    @Test func theProviderTokenIsAnES256JWTSignedWithTheP8Key() throws {
        let key = P256.Signing.PrivateKey()
        let clock = TestClock(startingAt: Date(timeIntervalSince1970: 1_700_000_000.7))
        let provider = try APNsTokenProvider(credentials: Self.credentials(key), now: { clock.now })
        let jwt = try provider.token()
        let (header, claims, signature, input) = try Self.parts(jwt)
        #expect(header == ["alg": "ES256", "kid": "ABC123DEFG"])
        #expect(claims["iss"] == "DEF123GHIJ")
        let iat = try #require(claims["iat"]?.doubleValue)
        #expect(iat == iat.rounded() && abs(iat - 1_700_000_000) < 5)
        #expect(claims.objectValue?.count == 2)
        // ES256 is the raw 64-byte r || s (RFC 7518 §3.4), not DER.
        #expect(signature.count == 64)
        let ecdsa = try P256.Signing.ECDSASignature(rawRepresentation: signature)
        #expect(key.publicKey.isValidSignature(ecdsa, for: Data(input.utf8)))
        #expect(!P256.Signing.PrivateKey().publicKey.isValidSignature(ecdsa, for: Data(input.utf8)))
    }

    @Test func oneTokenServesFiftyMinutesThenANewOneIsMade() throws {
        let clock = TestClock()
        let provider = try APNsTokenProvider(credentials: Self.credentials(), now: { clock.now })
        let first = try provider.token()
        #expect(try provider.token() == first)
        clock.advance(by: 49 * 60)
        #expect(try provider.token() == first)
        clock.advance(by: 61)
        let second = try provider.token()
        #expect(second != first)
        #expect(try provider.token() == second)
        // A refused token is renewed once: whoever comes second with the same stale token gets the renewal.
        let third = try provider.renew(replacing: second)
        #expect(third != second)
        #expect(try provider.renew(replacing: second) == third)
        #expect(try provider.token() == third)
    }

    @Test func credentialsNameWhatIsWrongWithoutQuotingTheKey() throws {
        let good = Self.credentials()
        #expect(good.problems().isEmpty)
        #expect(good.redacted.privateKeyPEM == "********")
        #expect(good.redacted.keyID == good.keyID)
        let secret = "-----BEGIN PRIVATE KEY-----\nTOPSECRETmaterial\n-----END PRIVATE KEY-----"
        let bad = APNsCredentials(keyID: "short", teamID: "TOO-LONG-TEAM", privateKeyPEM: secret)
        let problems = bad.problems()
        #expect(problems.map(\.field) == ["apns.key_id", "apns.team_id", "apns.private_key"])
        #expect(!problems.contains { $0.reason.contains("TOPSECRET") })
        #expect(bad.problems(prefix: "push.apns").map(\.field).first == "push.apns.key_id")
        // An RSA key is not an APNs key, however well formed.
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        #expect(
            APNsCredentials(keyID: good.keyID, teamID: good.teamID, privateKeyPEM: rsa.pkcs8PEMRepresentation).problems().map(\.field) == [
                "apns.private_key"
            ])
        #expect(throws: (any Error).self) { try APNsTokenProvider(credentials: bad) }

        let decoded = try JSONDecoder().decode(
            APNsCredentials.self, from: Data(#"{"key_id": "ABC123DEFG", "team_id": "DEF123GHIJ", "private_key": "x"}"#.utf8))
        #expect(decoded.keyID == "ABC123DEFG" && decoded.teamID == "DEF123GHIJ" && decoded.privateKeyPEM == "x")
    }

    // MARK: The request

    @Test func aCriticalAlertCarriesTheCriticalSoundAndPriorityTen() throws {
        let request = APNsRequest(
            topic: "com.example.app", title: "Door \"open\"", subtitle: "Garage", body: "Line one\nline two", badge: 3, sound: "siren.caf",
            threadID: "doors", collapseID: "door-7", interruptionLevel: .critical, priority: .critical,
            expiration: Date(timeIntervalSince1970: 1_800_000_000), mutableContent: true,
            customData: ["door": 7, "aps": "ignored", "tags": ["a", "b"]])
        let payload = request.payload
        #expect(
            payload["aps"]
                == [
                    "alert": ["title": "Door \"open\"", "subtitle": "Garage", "body": "Line one\nline two"], "badge": 3,
                    "sound": ["critical": 1, "name": "siren.caf", "volume": 1], "thread-id": "doors", "interruption-level": "critical",
                    "mutable-content": 1,
                ])
        #expect(payload["door"] == 7)
        #expect(payload["tags"] == ["a", "b"])
        #expect(try JSONValue.parse(payload.jsonText()) == payload)
        let headers = Dictionary(request.headers, uniquingKeysWith: { first, _ in first })
        #expect(headers["apns-push-type"] == "alert")
        #expect(headers["apns-topic"] == "com.example.app")
        #expect(headers["apns-priority"] == "10")
        #expect(headers["apns-expiration"] == "1800000000")
        #expect(headers["apns-collapse-id"] == "door-7")

        // Without a sound a critical alert still gets the critical dictionary, with the default sound.
        let quiet = APNsRequest(topic: "t", title: "x", interruptionLevel: .critical)
        #expect(quiet.payload["aps"]?["sound"] == ["critical": 1, "name": "default", "volume": 1])
        // An ordinary sound is a plain name.
        #expect(APNsRequest(topic: "t", title: "x", sound: "ping.caf").payload["aps"]?["sound"] == "ping.caf")
    }

    @Test func priorityCollapseIDAndBackgroundPushes() throws {
        for (priority, expected) in [(Priority.critical, 10), (.high, 10), (.medium, 5), (.low, 5)] {
            #expect(APNsRequest(topic: "t", title: "x", priority: priority).apnsPriority == expected)
        }
        let background = APNsRequest(pushType: .background, topic: "t", title: "ignored", badge: 1, threadID: "x", priority: .critical)
        #expect(background.apnsPriority == 5)
        #expect(background.payload == ["aps": ["content-available": 1, "thread-id": "x"]])
        // Past 64 bytes a collapse ID is sent as its SHA-256 in hex: 64 characters, the same for the same ID.
        let long = String(repeating: "é", count: 40)
        let hashed = try #require(APNsRequest(topic: "t", collapseID: long).apnsCollapseID)
        #expect(hashed.utf8.count == 64 && hashed != long)
        #expect(APNsRequest(topic: "t", collapseID: long).apnsCollapseID == hashed)
        let exactly64 = String(repeating: "a", count: 64)
        #expect(APNsRequest(topic: "t", collapseID: exactly64).apnsCollapseID == exactly64)
    }

    // MARK: Apple's answers

    static func answer(_ status: Int, _ body: String = "", headers: [(String, String)] = []) -> OutboundHTTPAnswer {
        OutboundHTTPAnswer(status: status, headers: headers, body: body)
    }

    @Test func applesAnswersMapToOutcomes() {
        #expect(
            APNsSender.outcome(for: Self.answer(200, headers: [("apns-id", "EC1BF194-B3B2-424A-89A9-5A918A6E6B5E")]))
                == .accepted("APNs 200, apns-id EC1BF194-B3B2-424A-89A9-5A918A6E6B5E"))
        guard case .gone(let unregistered) = APNsSender.outcome(for: Self.answer(410, #"{"reason":"Unregistered","timestamp":1700000000000}"#)) else {
            Issue.record("410 is not gone")
            return
        }
        #expect(unregistered.contains("Unregistered") && unregistered.contains("2023-11-14"))
        #expect(APNsSender.outcome(for: Self.answer(410, #"{"reason":"ExpiredToken"}"#)) == .gone("APNs 410 ExpiredToken"))
        #expect(APNsSender.outcome(for: Self.answer(400, #"{"reason":"BadDeviceToken"}"#)) == .gone("APNs 400 BadDeviceToken"))
        #expect(APNsSender.outcome(for: Self.answer(400, #"{"reason":"DeviceTokenNotForTopic"}"#)) == .gone("APNs 400 DeviceTokenNotForTopic"))
        #expect(APNsSender.outcome(for: Self.answer(400, #"{"reason":"PayloadTooLarge"}"#)) == .permanentFailure("APNs 400 PayloadTooLarge"))
        #expect(APNsSender.outcome(for: Self.answer(413, #"{"reason":"PayloadTooLarge"}"#)) == .permanentFailure("APNs 413 PayloadTooLarge"))
        #expect(
            APNsSender.outcome(for: Self.answer(403, #"{"reason":"InvalidProviderToken"}"#)) == .permanentFailure("APNs 403 InvalidProviderToken"))
        #expect(
            APNsSender.outcome(for: Self.answer(429, #"{"reason":"TooManyRequests"}"#, headers: [("Retry-After", "30")]))
                == .transientFailure("APNs 429 TooManyRequests", retryAfter: 30))
        #expect(
            APNsSender.outcome(for: Self.answer(500, #"{"reason":"InternalServerError"}"#))
                == .transientFailure("APNs 500 InternalServerError", retryAfter: nil))
        #expect(APNsSender.outcome(for: Self.answer(503, "")) == .transientFailure("APNs HTTP 503", retryAfter: nil))
    }

    @Test func malformedDeviceTokensAndHugePayloadsAreNotSent() async throws {
        // Nothing listens on this URL: if a request were made, the outcome would be a transient failure.
        let sender = APNsSender(
            tokens: try APNsTokenProvider(credentials: Self.credentials()),
            http: OutboundHTTPClient(policy: DestinationPolicy(allowPrivateNetworks: true)),
            baseURL: URL(string: "https://127.0.0.1:9")!)
        let request = APNsRequest(topic: "t", title: "x")
        guard case .gone = await sender.send(request, deviceToken: "../../admin?x=" + String(repeating: "a", count: 64), environment: .production)
        else {
            Issue.record("a token with a path in it was not refused")
            return
        }
        let huge = APNsRequest(topic: "t", body: String(repeating: "x", count: 5000))
        guard case .permanentFailure(let reason) = await sender.send(huge, deviceToken: APNsTestServer.deviceToken(), environment: .sandbox) else {
            Issue.record("a 5 KB payload was not refused")
            return
        }
        #expect(reason.contains("PayloadTooLarge"))
        #expect(sender.url(deviceToken: "abcd", environment: .sandbox).absoluteString == "https://127.0.0.1:9/3/device/abcd")
        let apple = APNsSender(tokens: sender.tokens, http: sender.http)
        #expect(apple.url(deviceToken: "abcd", environment: .production).absoluteString == "https://api.push.apple.com/3/device/abcd")
        #expect(apple.url(deviceToken: "abcd", environment: .sandbox).absoluteString == "https://api.sandbox.push.apple.com/3/device/abcd")
    }

    // MARK: Against the test server

    /// Sends in flight at once in the volume test. In a debug build swift-nio-http2 finds a stream by a linear
    /// scan over the open ones, which costs more per request the more are open: on two cores 100 in flight ran at
    /// about 165 pushes/s, 8 or 20 at about 275 (a release build does not notice either).
    static let inFlight = 20

    /// 3,000 in the suite (a debug build beside every other suite); the release binary's 10,000 are in docs/performance.md.
    @Test(.timeLimit(.minutes(5))) func thousandsOfPushesShareOneTokenAndAFewHTTP2Connections() async throws {
        let server = try await APNsTestServer.start()
        defer { server.stop() }
        let sender = try server.sender()
        let tokens = (0..<3_000).map { _ in APNsTestServer.deviceToken() }
        let request = APNsRequest(
            topic: APNsTestServer.topic, title: "Build finished", body: "main is green", badge: 1, sound: "default", threadID: "ci",
            interruptionLevel: .timeSensitive, priority: .high, customData: ["build": 4711])
        let started = ContinuousClock.now
        let outcomes = await withTaskGroup(of: PushDeviceOutcome.self) { group in
            var outcomes: [PushDeviceOutcome] = []
            var next = 0
            for _ in 0..<Self.inFlight {
                let token = tokens[next]
                next += 1
                group.addTask { await sender.send(request, deviceToken: token, environment: .production) }
            }
            while let outcome = await group.next() {
                outcomes.append(outcome)
                if next < tokens.count {
                    let token = tokens[next]
                    next += 1
                    group.addTask { await sender.send(request, deviceToken: token, environment: .production) }
                }
            }
            return outcomes
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("APNs: \(tokens.count) pushes in \(String(format: "%.1f", seconds)) s, \(Int(Double(tokens.count) / seconds)) pushes/s")

        let failures = outcomes.filter { if case .accepted = $0 { false } else { true } }
        #expect(failures.count == 0, "\(failures.prefix(3))")
        #expect(outcomes.count == tokens.count)
        let counters = try await server.counters()
        #expect(counters.requests == tokens.count)
        #expect(counters.verified == tokens.count)
        #expect(counters.connections <= 4, "\(counters.connections) HTTP/2 connections")
        #expect(counters.refusedConnections == 0)
        #expect(counters.distinctJwts <= 2)
        let received = try server.requests()
        #expect(Set(received.compactMap(\.token)) == Set(tokens))
        #expect(received.count == tokens.count)
        let first = try #require(received.first)
        #expect(first.verified, "\(first.problems)")
        #expect(first.headers["apns-topic"] == APNsTestServer.topic && first.headers["apns-push-type"] == "alert")
        #expect(first.headers["apns-priority"] == "10")
        #expect(first.json?["aps"]?["interruption-level"] == "time-sensitive")
        #expect(first.json?["build"] == 4711)
    }

    @Test(.timeLimit(.minutes(1))) func deadTokensAreGoneAndBusyServersTransient() async throws {
        let server = try await APNsTestServer.start()
        defer { server.stop() }
        let sender = try server.sender()
        let request = APNsRequest(topic: APNsTestServer.topic, title: "Hello")
        let (unregistered, bad, busy, broken, large) = (
            APNsTestServer.deviceToken(), APNsTestServer.deviceToken(), APNsTestServer.deviceToken(), APNsTestServer.deviceToken(),
            APNsTestServer.deviceToken()
        )
        try await server.fail(token: unregistered, status: 410)
        try await server.fail(token: bad, status: 400, reason: "BadDeviceToken")
        try await server.fail(token: busy, status: 429, retryAfter: 7)
        try await server.fail(token: broken, status: 500)
        try await server.fail(token: large, status: 400, reason: "BadCollapseId")

        guard case .gone(let reason) = await sender.send(request, deviceToken: unregistered, environment: .production) else {
            Issue.record("410 was not gone")
            return
        }
        #expect(reason.hasPrefix("APNs 410 Unregistered (no longer valid since "))
        #expect(await sender.send(request, deviceToken: bad, environment: .sandbox) == .gone("APNs 400 BadDeviceToken"))
        #expect(
            await sender.send(request, deviceToken: busy, environment: .production) == .transientFailure("APNs 429 TooManyRequests", retryAfter: 7))
        #expect(
            await sender.send(request, deviceToken: broken, environment: .production)
                == .transientFailure("APNs 500 InternalServerError", retryAfter: nil))
        #expect(await sender.send(request, deviceToken: large, environment: .production) == .permanentFailure("APNs 400 BadCollapseId"))
        // The server itself refuses a topic the key is not for.
        let foreign = APNsRequest(topic: "com.example.other", title: "Hello")
        #expect(
            await sender.send(foreign, deviceToken: APNsTestServer.deviceToken(), environment: .production)
                == .permanentFailure("APNs 400 TopicDisallowed"))
        guard case .accepted(let detail) = await sender.send(request, deviceToken: APNsTestServer.deviceToken(), environment: .production) else {
            Issue.record("an ordinary token was not accepted")
            return
        }
        #expect(detail.hasPrefix("APNs 200, apns-id "))
        let received = try server.requests()
        #expect(received.count == 7)
        #expect(received.filter { !$0.verified }.map(\.reason) == ["TopicDisallowed"])
    }

    @Test(.timeLimit(.minutes(1))) func anExpiredProviderTokenIsRenewedOnceAndTheSendRetried() async throws {
        let server = try await APNsTestServer.start()
        defer { server.stop() }
        let sender = try server.sender()
        let request = APNsRequest(topic: APNsTestServer.topic, title: "Hello")
        guard case .accepted = await sender.send(request, deviceToken: APNsTestServer.deviceToken(), environment: .production) else {
            Issue.record("the first send failed")
            return
        }
        // APNs now calls the token expired: fifty sends in flight all hear 403, and the token is renewed once.
        try await server.expireProviderTokens()
        let outcomes = await withTaskGroup(of: PushDeviceOutcome.self) { group in
            for _ in 0..<50 {
                group.addTask { await sender.send(request, deviceToken: APNsTestServer.deviceToken(), environment: .production) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { if case .accepted = $0 { true } else { false } }, "\(outcomes.prefix(3))")
        var counters = try await server.counters()
        #expect(counters.distinctJwts == 2)
        #expect(counters.statuses["200"] == 51)
        #expect((counters.statuses["403"] ?? 0) <= 50)
        let refused = try server.requests().filter { $0.status == 403 }
        #expect(refused.allSatisfy { $0.reason == "ExpiredProviderToken" })

        // Refused again after renewal: the credentials are wrong, and the send gives up after one retry.
        try await server.expireProviderTokens(always: true)
        let before = try server.requests().count
        #expect(
            await sender.send(request, deviceToken: APNsTestServer.deviceToken(), environment: .production)
                == .permanentFailure("APNs 403 ExpiredProviderToken"))
        #expect(try server.requests().count == before + 2)
        counters = try await server.counters()
        #expect(counters.distinctJwts == 3)
    }

    @Test(.timeLimit(.minutes(1))) func aTokenFromAnotherKeyIsRefusedAndAnUntrustedCertificateNotSpokenTo() async throws {
        let server = try await APNsTestServer.start()
        defer { server.stop() }
        let request = APNsRequest(topic: APNsTestServer.topic, title: "Hello")
        // Right Key ID, wrong key: APNs says InvalidProviderToken; renewing does not help.
        var impostor = server.credentials
        impostor.privateKeyPEM = P256.Signing.PrivateKey().pemRepresentation
        let wrongKey = APNsSender(tokens: try APNsTokenProvider(credentials: impostor), http: server.http(), baseURL: server.baseURL)
        #expect(
            await wrongKey.send(request, deviceToken: APNsTestServer.deviceToken(), environment: .production)
                == .permanentFailure("APNs 403 InvalidProviderToken"))
        #expect(try server.requests().map(\.reason) == ["InvalidProviderToken", "InvalidProviderToken"])

        // Without the test certificate among its trust roots the client refuses the TLS handshake.
        let untrusting = APNsSender(
            tokens: try APNsTokenProvider(credentials: server.credentials),
            http: OutboundHTTPClient(policy: DestinationPolicy(allowPrivateNetworks: true), timeoutSeconds: 5), baseURL: server.baseURL)
        guard case .transientFailure = await untrusting.send(request, deviceToken: APNsTestServer.deviceToken(), environment: .production) else {
            Issue.record("a server with an untrusted certificate was spoken to")
            return
        }
        #expect(try server.requests().count == 2)
        // Nor is loopback reached without the operator allowing private networks.
        var closed = server.http()
        closed.policy = DestinationPolicy()
        let guarded = APNsSender(tokens: try APNsTokenProvider(credentials: server.credentials), http: closed, baseURL: server.baseURL)
        guard case .permanentFailure(let reason) = await guarded.send(request, deviceToken: APNsTestServer.deviceToken(), environment: .production)
        else {
            Issue.record("loopback was reached without allowPrivateNetworks")
            return
        }
        #expect(reason.hasPrefix("not sent: "))
    }
}
