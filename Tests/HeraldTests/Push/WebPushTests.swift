import Crypto
import Foundation
import Testing

@testable import Herald

/// Web Push as pure Swift: RFC 8291 encryption checked against the RFC's own example, VAPID tokens (RFC 8292)
/// checked with swift-crypto, subscription validation, and delivery to scripts/webpush_receiver.py, a push
/// service that decrypts with `http_ece` and verifies VAPID with `py_vapid`, independent implementations both.
@Suite("Web Push")
struct WebPushTests {
    // MARK: RFC 8291 Appendix A

    /// RFC 8291 Appendix A, verbatim.
    enum Example {
        static let plaintext = "When I grow up, I want to be a watermelon"
        static let asPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
        static let asPublic = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
        static let uaPublic = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
        static let uaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
        static let salt = "DGv6ra1nlYgDCS1FRnbzlw"
        static let authSecret = "BTBZMqHH6r4Tts7J_aSIgg"
        static let body =
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml" + "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT"
            + "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        static let subscription = WebPushSubscription(
            endpoint: "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV", p256dh: uaPublic, auth: authSecret)

        static func bytes(_ text: String) -> [UInt8] { Array(Data(base64URLEncoded: text)!) }
    }

    @Test func encryptionReproducesRFC8291AppendixAByteForByte() throws {
        let serverKey = try P256.KeyAgreement.PrivateKey(rawRepresentation: Example.bytes(Example.asPrivate))
        #expect(Data(serverKey.publicKey.x963Representation).base64URLEncoded() == Example.asPublic)
        let body = try WebPushEncryption.encrypt(
            Array(Example.plaintext.utf8), for: Example.subscription, salt: Example.bytes(Example.salt), serverKey: serverKey)
        #expect(Data(body).base64URLEncoded() == Example.body)
        // The header as RFC 8188 §2.1 lays it out: salt, rs = 4096, idlen = 65, keyid = as_public.
        #expect(Array(body[0..<16]) == Example.bytes(Example.salt))
        #expect(Array(body[16..<21]) == [0x00, 0x00, 0x10, 0x00, 65])
        #expect(Array(body[21..<86]) == Example.bytes(Example.asPublic))
    }

    /// The browser's side, with the RFC's user agent key: the same ECDH secret, key and nonce open the record.
    @Test func theUserAgentDecryptsTheExample() throws {
        let body = Example.bytes(Example.body)
        let uaPrivate = try P256.KeyAgreement.PrivateKey(rawRepresentation: Example.bytes(Example.uaPrivate))
        let asPublic = try P256.KeyAgreement.PublicKey(x963Representation: body[21..<86])
        let secret = try uaPrivate.sharedSecretFromKeyAgreement(with: asPublic).withUnsafeBytes { Array($0) }
        let (key, nonce) = WebPushEncryption.deriveKeyAndNonce(
            ecdhSecret: secret, authSecret: Example.bytes(Example.authSecret), userAgentPublic: Example.bytes(Example.uaPublic),
            serverPublic: Array(body[21..<86]), salt: Array(body[0..<16]))
        // RFC 8291 Appendix A's CEK and NONCE.
        #expect(Data(key).base64URLEncoded() == "oIhVW04MRdy2XN9CiKLxTg")
        #expect(Data(nonce).base64URLEncoded() == "4h_95klXJ5E_qnoN")
        let record = Array(body[86...])
        let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: nonce), ciphertext: record.dropLast(16), tag: record.suffix(16))
        let opened = try AES.GCM.open(box, using: SymmetricKey(data: key))
        #expect(Array(opened) == Array(Example.plaintext.utf8) + [0x02])
    }

    @Test func eachMessageGetsAFreshKeyAndSalt() throws {
        let first = try WebPushEncryption.encrypt(Array("same".utf8), for: Example.subscription)
        let second = try WebPushEncryption.encrypt(Array("same".utf8), for: Example.subscription)
        #expect(first.count == 86 + 4 + 1 + 16)
        #expect(first[0..<16] != second[0..<16])
        #expect(first[21..<86] != second[21..<86])
    }

    @Test func payloadsAreLimitedToWhatFitsIn4096Bytes() throws {
        let largest = try WebPushEncryption.encrypt([UInt8](repeating: 0x41, count: 3993), for: Example.subscription)
        #expect(largest.count == 4096)
        #expect(throws: WebPushEncryption.Failure.payloadTooLarge(3994)) {
            try WebPushEncryption.encrypt([UInt8](repeating: 0x41, count: 3994), for: Example.subscription)
        }
        #expect(throws: WebPushEncryption.Failure.self) {
            try WebPushEncryption.encrypt(Array("hello".utf8), for: Example.subscription, recordSize: 20)
        }
    }

    // MARK: VAPID

    struct DecodedToken {
        var header: [String: JSONValue]
        var claims: [String: JSONValue]
        var signingInput: [UInt8]
        var signature: [UInt8]
        var key: String
    }

    /// Splits `vapid t=<JWT>, k=<key>` and checks the ES256 signature with swift-crypto against `k`.
    static func decode(authorization: String) throws -> DecodedToken {
        let prefix = "vapid t="
        #expect(authorization.hasPrefix(prefix))
        let parts = authorization.dropFirst(prefix.count).components(separatedBy: ", k=")
        try #require(parts.count == 2)
        let token = parts[0].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        try #require(token.count == 3)
        let header = try JSONValue.parse(String(decoding: try #require(Data(base64URLEncoded: token[0])), as: UTF8.self))
        let claims = try JSONValue.parse(String(decoding: try #require(Data(base64URLEncoded: token[1])), as: UTF8.self))
        // base64url without padding throughout.
        #expect(!parts[0].contains("=") && !parts[1].contains("="))
        let signature = Array(try #require(Data(base64URLEncoded: token[2])))
        let input = Array("\(token[0]).\(token[1])".utf8)
        let publicKey = try P256.Signing.PublicKey(x963Representation: Example.bytes(parts[1]))
        let valid = publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: input)
        #expect(valid, "the ES256 signature verifies against k")
        return DecodedToken(
            header: try #require(header.objectValue), claims: try #require(claims.objectValue), signingInput: input, signature: signature,
            key: parts[1])
    }

    @Test func vapidTokensAreES256JWTsForThePushServiceOrigin() throws {
        let key = VAPIDKey.generate()
        let expiry = Date().addingTimeInterval(12 * 3600)
        let header = try key.authorization(audience: "https://fcm.googleapis.com", subject: "mailto:ops@example.com", expiresAt: expiry)
        let token = try Self.decode(authorization: header)
        #expect(token.header == ["typ": "JWT", "alg": "ES256"])
        #expect(
            token.claims == [
                "aud": "https://fcm.googleapis.com", "exp": .number(expiry.timeIntervalSince1970.rounded(.down)), "sub": "mailto:ops@example.com",
            ])
        #expect(token.signature.count == 64)
        #expect(token.key == key.publicKeyBase64URL)
        #expect(Example.bytes(key.publicKeyBase64URL).count == 65 && Example.bytes(key.publicKeyBase64URL).first == 0x04)
    }

    @Test func keysSurviveTheirPEMAndImportFromTheRawFormWebPushLibrariesPrint() throws {
        let key = VAPIDKey.generate()
        #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try VAPIDKey(pem: key.pemRepresentation).publicKeyBase64URL == key.publicKeyBase64URL)
        let raw = Data(key.privateKey.rawRepresentation).base64URLEncoded()
        #expect(try VAPIDKey(privateKeyBase64URL: raw).publicKeyBase64URL == key.publicKeyBase64URL)
        // An `openssl ecparam -genkey` SEC 1 key reads too.
        let sec1 = try P256.Signing.PrivateKey(pemRepresentation: key.pemRepresentation).derRepresentation
        #expect(!sec1.isEmpty)
        #expect(throws: VAPIDKey.Failure.self) { try VAPIDKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----") }
        #expect(throws: VAPIDKey.Failure.self) { try VAPIDKey(privateKeyBase64URL: "c2hvcnQ") }
    }

    @Test func tokensThatPushServicesWouldRefuseAreNotSigned() throws {
        let key = VAPIDKey.generate()
        let soon = Date().addingTimeInterval(3600)
        #expect(throws: VAPIDKey.Failure.self) {
            try key.authorization(audience: "https://push.example", subject: "mailto:a@b.example", expiresAt: Date().addingTimeInterval(25 * 3600))
        }
        #expect(throws: VAPIDKey.Failure.self) {
            try key.authorization(audience: "https://push.example", subject: "mailto:a@b.example", expiresAt: Date().addingTimeInterval(-1))
        }
        #expect(throws: VAPIDKey.Failure.self) {
            try key.authorization(audience: "https://push.example", subject: "ops@example.com", expiresAt: soon)
        }
        #expect(throws: VAPIDKey.Failure.self) {
            try key.authorization(audience: "https://push.example/wpush/v2/x", subject: "mailto:a@b.example", expiresAt: soon)
        }
        #expect(
            try key.authorization(audience: "https://push.example", subject: "https://app.example/contact", expiresAt: soon).hasPrefix("vapid t="))
    }

    @Test(arguments: [
        ("https://fcm.googleapis.com/fcm/send/cYk3:APA91bH", "https://fcm.googleapis.com"),
        ("https://updates.push.services.mozilla.com/wpush/v2/gAAAAABh", "https://updates.push.services.mozilla.com"),
        ("https://Web.Push.Apple.com:443/QGuQyavXutnMH", "https://web.push.apple.com"),
        ("https://push.example.net:8443/p/1", "https://push.example.net:8443"),
        ("http://127.0.0.1:5000/push/s1", "http://127.0.0.1:5000"),
    ])
    func theAudienceIsTheEndpointsOrigin(endpoint: String, audience: String) throws {
        #expect(VAPIDKey.audience(for: try #require(URL(string: endpoint))) == audience)
    }

    @Test func oneTokenServesAPushServiceUntilAnHourBeforeItExpires() throws {
        let cache = VAPIDTokenCache()
        let key = VAPIDKey.generate()
        let start = Date()
        let first = try cache.authorization(audience: "https://a.example", subject: "mailto:a@b.example", key: key, now: start)
        let later = try cache.authorization(
            audience: "https://a.example", subject: "mailto:a@b.example", key: key, now: start.addingTimeInterval(10.9 * 3600))
        #expect(first == later)
        let other = try cache.authorization(audience: "https://b.example", subject: "mailto:a@b.example", key: key, now: start)
        #expect(other != first)
        let anotherKey = try cache.authorization(audience: "https://a.example", subject: "mailto:a@b.example", key: VAPIDKey.generate(), now: start)
        #expect(anotherKey != first)
        let renewed = try cache.authorization(
            audience: "https://a.example", subject: "mailto:a@b.example", key: key, now: start.addingTimeInterval(11.1 * 3600))
        #expect(renewed != first)
        let claims = try Self.decode(authorization: renewed).claims
        #expect(claims["exp"] == .number((start.addingTimeInterval(23.1 * 3600).timeIntervalSince1970).rounded(.down)))
    }

    // MARK: Subscriptions

    static let validKey = Example.uaPublic
    static let validAuth = Example.authSecret

    /// One row of the validation table: a subscription and the fields refused.
    struct SubscriptionCase: Sendable, CustomTestStringConvertible {
        var endpoint: String
        var p256dh: String = WebPushTests.validKey
        var auth: String = WebPushTests.validAuth
        var refused: [String] = []

        var testDescription: String { "\(endpoint.prefix(60)) \(p256dh.prefix(12)) \(auth.prefix(12)) -> \(refused)" }
    }

    static let subscriptionCases: [SubscriptionCase] = [
        SubscriptionCase(endpoint: "https://fcm.googleapis.com/fcm/send/abc"),
        SubscriptionCase(endpoint: "http://127.0.0.1:8080/push/1"),
        SubscriptionCase(endpoint: "http://localhost/push/1"),
        SubscriptionCase(endpoint: "http://[::1]:9000/push/1"),
        // Padded base64url and standard base64 are read too.
        SubscriptionCase(endpoint: "https://push.example/x", p256dh: validKey + "=", auth: validAuth + "=="),
        SubscriptionCase(
            endpoint: "https://push.example/x", p256dh: Data(Example.bytes(validKey)).base64EncodedString(),
            auth: Data(Example.bytes(validAuth)).base64EncodedString()),
        SubscriptionCase(endpoint: "http://push.example/x", refused: ["subscription.endpoint"]),
        SubscriptionCase(endpoint: "http://10.0.0.1/x", refused: ["subscription.endpoint"]),
        SubscriptionCase(endpoint: "ftp://push.example/x", refused: ["subscription.endpoint"]),
        SubscriptionCase(endpoint: "/push/relative", refused: ["subscription.endpoint"]),
        SubscriptionCase(endpoint: "", refused: ["subscription.endpoint"]),
        SubscriptionCase(endpoint: "https://user:pw@push.example/x", refused: ["subscription.endpoint"]),
        SubscriptionCase(endpoint: "https://push.example/" + String(repeating: "a", count: 2100), refused: ["subscription.endpoint"]),
        // Not base64; 64 bytes; 65 bytes with a compressed point's prefix; 65 bytes off the curve.
        SubscriptionCase(endpoint: "https://push.example/x", p256dh: "not base64!", refused: ["subscription.keys.p256dh"]),
        SubscriptionCase(
            endpoint: "https://push.example/x", p256dh: Data(repeating: 4, count: 64).base64URLEncoded(), refused: ["subscription.keys.p256dh"]),
        SubscriptionCase(
            endpoint: "https://push.example/x", p256dh: Data([0x02] + Array(repeating: 7, count: 64)).base64URLEncoded(),
            refused: ["subscription.keys.p256dh"]),
        SubscriptionCase(
            endpoint: "https://push.example/x", p256dh: Data([0x04] + Array(repeating: 7, count: 64)).base64URLEncoded(),
            refused: ["subscription.keys.p256dh"]),
        SubscriptionCase(
            endpoint: "https://push.example/x", auth: Data(repeating: 1, count: 15).base64URLEncoded(), refused: ["subscription.keys.auth"]),
        SubscriptionCase(
            endpoint: "https://push.example/x", auth: Data(repeating: 1, count: 32).base64URLEncoded(), refused: ["subscription.keys.auth"]),
        SubscriptionCase(
            endpoint: "", p256dh: "", auth: "", refused: ["subscription.endpoint", "subscription.keys.p256dh", "subscription.keys.auth"]),
    ]

    @Test(arguments: subscriptionCases)
    func subscriptionsAreValidatedFieldByField(_ row: SubscriptionCase) {
        let problems = WebPushSubscription.problems(endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth)
        #expect(problems.map(\.field) == row.refused, "\(problems)")
        #expect(problems.allSatisfy { !$0.reason.isEmpty })
    }

    @Test func subscriptionsCodeInTheBrowsersShape() throws {
        let json = #"{"endpoint":"https://push.example/x","expirationTime":null,"keys":{"p256dh":"\#(Self.validKey)","auth":"\#(Self.validAuth)"}}"#
        let subscription = try JSONCoding.requestDecoder.decode(WebPushSubscription.self, from: Data(json.utf8))
        #expect(subscription == WebPushSubscription(endpoint: "https://push.example/x", p256dh: Self.validKey, auth: Self.validAuth))
        let encoded = try JSONValue.parse(String(decoding: JSONCoding.encode(subscription), as: UTF8.self))
        #expect(encoded == ["endpoint": "https://push.example/x", "keys": ["p256dh": .string(Self.validKey), "auth": .string(Self.validAuth)]])
        let misspelt = #"{"endpoint":"https://push.example/x","keys":{"p256dh":"k","auht":"a"}}"#
        #expect(throws: (any Error).self) { try JSONCoding.requestDecoder.decode(WebPushSubscription.self, from: Data(misspelt.utf8)) }
    }

    @Test(arguments: [
        ("replace-me_1", true), (String(repeating: "a", count: 32), true), (String(repeating: "a", count: 33), false), ("a b", false), ("", false),
        ("a=", false),
    ])
    func topicsAreShortBase64URL(topic: String, valid: Bool) {
        #expect((WebPushSender.topicProblem(topic) == nil) == valid)
    }

    // MARK: Answers

    static func answer(_ status: Int, _ headers: [(String, String)] = [], body: String = "") -> OutboundHTTPAnswer {
        OutboundHTTPAnswer(status: status, headers: headers, body: body)
    }

    @Test func answersMapToWhatTheChannelDoesWithTheDevice() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let accepted = WebPushSender.outcome(for: Self.answer(201, [("Location", "https://push.example/m/42")]), host: "push.example", now: now)
        #expect(accepted == .accepted("HTTP 201 from push.example, message https://push.example/m/42"))
        for status in [200, 202] {
            guard case .accepted = WebPushSender.outcome(for: Self.answer(status), host: "h", now: now) else { Issue.record("\(status)"); continue }
        }
        for status in [404, 410] {
            guard case .gone = WebPushSender.outcome(for: Self.answer(status), host: "h", now: now) else { Issue.record("\(status)"); continue }
        }
        #expect(
            WebPushSender.outcome(for: Self.answer(429, [("Retry-After", "30")]), host: "h", now: now)
                == .transientFailure("HTTP 429 from h", retryAfter: 30))
        let date = "Fri, 15 Jan 2027 08:00:10 GMT"  // 1_800_000_000 is 08:00:00 that day.
        #expect(
            WebPushSender.outcome(for: Self.answer(503, [("retry-after", date)]), host: "h", now: now)
                == .transientFailure("HTTP 503 from h", retryAfter: 10))
        #expect(WebPushSender.outcome(for: Self.answer(500), host: "h", now: now) == .transientFailure("HTTP 500 from h", retryAfter: nil))
        #expect(WebPushSender.retryAfter("soon", now: now) == nil)
        #expect(WebPushSender.retryAfter("Thu, 01 Jan 1970 00:00:00 GMT", now: now) == 0)
        for status in [400, 401, 403, 413] {
            guard
                case .permanentFailure(let detail) = WebPushSender.outcome(
                    for: Self.answer(status, body: "UnauthorizedRegistration"), host: "h", now: now)
            else { Issue.record("\(status)"); continue }
            #expect(detail.contains("HTTP \(status)") && detail.contains("UnauthorizedRegistration"))
        }
    }

    // MARK: Against a push service

    static let subject = "mailto:push-tests@herald.example"
    static let loopbackClient = OutboundHTTPClient(policy: DestinationPolicy(allowPrivateNetworks: true), timeoutSeconds: 10)

    @Test(.timeLimit(.minutes(1)))
    func fiveHundredBrowsersEachDecryptTheirOwnMessage() async throws {
        let receiver = try await WebPushReceiver.start()
        defer { receiver.stop() }
        let vapid = VAPIDKey.generate()
        let subscriptions = try await receiver.subscriptions(500, applicationServerKey: vapid.publicKeyBase64URL)
        let sender = WebPushSender(client: Self.loopbackClient)
        let started = Date()

        func payload(_ index: Int) -> JSONValue {
            let fields: [String: JSONValue] = [
                "title": .string("Build \(index) finished"), "body": .string("ünïcode ✓ \"quoted\" </script>"), "n": .number(Double(index)),
                "data": .object(["url": .string("https://app.example/b/\(index)")]),
            ]
            return .object(fields)
        }
        let outcomes = try await withThrowingTaskGroup(of: (Int, PushDeviceOutcome).self) { group in
            var outcomes: [Int: PushDeviceOutcome] = [:]
            for (index, subscription) in subscriptions.enumerated() {
                if index >= 32, let (done, outcome) = try await group.next() { outcomes[done] = outcome }
                group.addTask {
                    let urgency = WebPushUrgency.allCases[index % 4]
                    let outcome = await sender.send(
                        Array(payload(index).jsonText().utf8), to: subscription.webPush, vapid: vapid, subject: Self.subject, ttlSeconds: 60 + index,
                        urgency: urgency, topic: index % 2 == 0 ? "build-\(index)" : nil)
                    return (index, outcome)
                }
            }
            for try await (done, outcome) in group { outcomes[done] = outcome }
            return outcomes
        }
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(outcomes.count == 500)
        for (index, outcome) in outcomes {
            guard case .accepted(let detail) = outcome else {
                Issue.record("subscription \(index): \(outcome)")
                continue
            }
            #expect(detail.hasPrefix("HTTP 201 from 127.0.0.1:\(receiver.port), message \(receiver.origin)/message/"))
        }

        let pushes = try await receiver.pushes()
        #expect(pushes.count == 500)
        let byID = Dictionary(uniqueKeysWithValues: subscriptions.enumerated().map { ($1.id, $0) })
        for push in pushes {
            let index = try #require(byID[push.subscription])
            #expect(push.status == 201)
            #expect(push.verified, "\(push.vapidError ?? "")")
            #expect(push.decryptError == nil)
            #expect(push.payload == payload(index))
            #expect(push.contentEncoding == "aes128gcm")
            #expect(push.contentType == "application/octet-stream")
            #expect(push.ttl == 60 + index)
            #expect(push.urgency == WebPushUrgency.allCases[index % 4].rawValue)
            #expect(push.topic == (index % 2 == 0 ? "build-\(index)" : nil))
            #expect(push.k == vapid.publicKeyBase64URL)
            #expect(push.claims?["aud"] == .string(receiver.origin))
            #expect(push.claims?["sub"] == .string(Self.subject))
        }
        #expect(Set(pushes.map(\.subscription)).count == 500, "every subscription got its own message")
        // One audience, one key: one token for all 500.
        #expect(Set(pushes.compactMap(\.jwt)).count == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func deadSubscriptionsAreGoneAndBusyOnesSayWhenToComeBack() async throws {
        let receiver = try await WebPushReceiver.start()
        defer { receiver.stop() }
        let vapid = VAPIDKey.generate()
        let subscriptions = try await receiver.subscriptions(5)
        try await receiver.answer([subscriptions[0].id], status: 410)
        try await receiver.answer([subscriptions[1].id], status: 404)
        try await receiver.answer([subscriptions[2].id], status: 429, retryAfter: "42")
        try await receiver.answer([subscriptions[3].id], status: 503)
        let sender = WebPushSender(client: Self.loopbackClient)
        func send(_ index: Int) async -> PushDeviceOutcome {
            await sender.send(
                Array(#"{"n":1}"#.utf8), to: subscriptions[index].webPush, vapid: vapid, subject: Self.subject, ttlSeconds: 0, urgency: .high,
                topic: nil)
        }

        guard case .gone(let detail) = await send(0) else { Issue.record("410 is not gone"); return }
        #expect(detail.contains("HTTP 410"))
        guard case .gone = await send(1) else { Issue.record("404 is not gone"); return }
        #expect(await send(2) == .transientFailure("HTTP 429 from 127.0.0.1:\(receiver.port): status 429", retryAfter: 42))
        #expect(await send(3) == .transientFailure("HTTP 503 from 127.0.0.1:\(receiver.port): status 503", retryAfter: nil))
        guard case .accepted = await send(4) else { Issue.record("the healthy subscription was not accepted"); return }
        let pushes = try await receiver.pushes()
        #expect(pushes.map(\.status) == [410, 404, 429, 503, 201])
        #expect(pushes.allSatisfy { $0.verified && $0.payload == ["n": 1] && $0.ttl == 0 && $0.urgency == "high" })
    }

    @Test(.timeLimit(.minutes(1)))
    func refusalsArePermanent() async throws {
        let receiver = try await WebPushReceiver.start()
        defer { receiver.stop() }
        let vapid = VAPIDKey.generate()
        let subscription = try await receiver.subscriptions(1, applicationServerKey: vapid.publicKeyBase64URL)[0].webPush
        let sender = WebPushSender(client: Self.loopbackClient)

        // Signed with a key the subscription was not made with: the push service answers 403.
        let wrongKey = await sender.send(
            [0x7B, 0x7D], to: subscription, vapid: VAPIDKey.generate(), subject: Self.subject, ttlSeconds: 60, urgency: .normal, topic: nil)
        guard case .permanentFailure(let detail) = wrongKey else { Issue.record("\(wrongKey)"); return }
        #expect(detail.contains("HTTP 403"))

        // Too large to encrypt into 4096 bytes: refused before any request.
        let large = await sender.send(
            [UInt8](repeating: 0x20, count: 4000), to: subscription, vapid: vapid, subject: Self.subject, ttlSeconds: 60, urgency: .normal, topic: nil
        )
        guard case .permanentFailure(let reason) = large else { Issue.record("\(large)"); return }
        #expect(reason.contains("4000 bytes"))
        #expect(
            await sender.send([1], to: subscription, vapid: vapid, subject: "ops@example.com", ttlSeconds: 60, urgency: .normal, topic: nil)
                .isPermanent)
        #expect(
            await sender.send([1], to: subscription, vapid: vapid, subject: Self.subject, ttlSeconds: 60, urgency: .normal, topic: "no spaces")
                .isPermanent)

        // The destination policy stands in front of every endpoint: loopback is refused unless the operator allows it.
        let guarded = WebPushSender(client: OutboundHTTPClient())
        let refused = await guarded.send([1], to: subscription, vapid: vapid, subject: Self.subject, ttlSeconds: 60, urgency: .normal, topic: nil)
        guard case .permanentFailure(let refusal) = refused else { Issue.record("\(refused)"); return }
        #expect(refusal.hasPrefix("not sent:"))
        #expect(try await receiver.pushes().count == 1, "only the wrongly signed push reached the push service")
    }
}

extension PushDeviceOutcome {
    fileprivate var isPermanent: Bool {
        if case .permanentFailure = self { return true }
        return false
    }
}
