import Crypto
import Foundation
import Testing
import _CryptoExtras

@testable import Herald

/// FCM HTTP v1 with a service account: the RS256 OAuth assertion, the message Herald builds, what Google's answers
/// mean, and sends to scripts/fcm_test_server.py, which verifies assertions, issues and checks access tokens and
/// checks every message as FCM does.
@Suite("FCM sender")
struct FCMTests {
    /// A key file as Firebase's console hands it out, extra fields included.
    static func keyFileJSON(_ key: _RSA.Signing.PrivateKey) -> String {
        let file: JSONValue = [
            "type": "service_account", "project_id": "herald-test-1234", "private_key_id": "0123456789abcdef0123456789abcdef01234567",
            "private_key": .string(key.pkcs8PEMRepresentation), "client_email": "firebase-adminsdk-x1y2z@herald-test-1234.iam.gserviceaccount.com",
            "client_id": "123456789012345678901", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token", "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/firebase-adminsdk", "universe_domain": "googleapis.com",
        ]
        return file.jsonText()
    }

    // MARK: The service account and its assertion

    @Test func theKeyFileIsReadWholeAndItsProblemsNamedWithoutTheKey() throws {
        let account = try FCMServiceAccount(json: Self.keyFileJSON(FCMTestServer.key))
        #expect(account.type == "service_account")
        #expect(account.projectID == "herald-test-1234")
        #expect(account.tokenURI == "https://oauth2.googleapis.com/token")
        #expect(account.problems().isEmpty)
        #expect(account.redacted.privateKeyPEM == "********")
        #expect(account.redacted.clientEmail == account.clientEmail)

        let secret = "-----BEGIN PRIVATE KEY-----\nTOPSECRETmaterial\n-----END PRIVATE KEY-----"
        let broken = FCMServiceAccount(
            type: "authorized_user", projectID: "../other", privateKeyID: "", privateKeyPEM: secret, clientEmail: "nobody", tokenURI: "ftp://x")
        let problems = broken.problems()
        #expect(
            problems.map(\.field) == [
                "fcm.service_account.type", "fcm.service_account.project_id", "fcm.service_account.private_key_id",
                "fcm.service_account.private_key", "fcm.service_account.client_email", "fcm.service_account.token_uri",
            ])
        #expect(!problems.contains { $0.reason.contains("TOPSECRET") })
        // A P-256 key is not a service account key.
        var ecdsa = account
        ecdsa.privateKeyPEM = P256.Signing.PrivateKey().pemRepresentation
        #expect(ecdsa.problems(prefix: "push.fcm").map(\.field) == ["push.fcm.private_key"])
        // Missing fields are each named, not just the first.
        let empty = try FCMServiceAccount(json: "{}")
        #expect(empty.problems().count == 5)
    }

    @Test func theAssertionIsAnRS256JWTForTheMessagingScope() async throws {
        let account = try FCMServiceAccount(json: Self.keyFileJSON(FCMTestServer.key))
        let provider = try FCMTokenProvider(account: account, http: FCMTestServer.http())
        let jwt = try provider.assertion(at: Date(timeIntervalSince1970: 1_700_000_000.9))
        let (header, claims, signature, input) = try APNsTests.parts(jwt)
        #expect(header == ["alg": "RS256", "typ": "JWT", "kid": "0123456789abcdef0123456789abcdef01234567"])
        #expect(
            claims == [
                "iss": "firebase-adminsdk-x1y2z@herald-test-1234.iam.gserviceaccount.com",
                "scope": "https://www.googleapis.com/auth/firebase.messaging", "aud": "https://oauth2.googleapis.com/token",
                "iat": 1_700_000_000, "exp": 1_700_003_600,
            ])
        let rsa = _RSA.Signing.RSASignature(rawRepresentation: signature)
        #expect(signature.count == 256)
        #expect(FCMTestServer.key.publicKey.isValidSignature(rsa, for: Data(input.utf8), padding: .insecurePKCS1v1_5))
        #expect(!FCMTestServer.key.publicKey.isValidSignature(rsa, for: Data((input + "x").utf8), padding: .insecurePKCS1v1_5))
    }

    // MARK: The message

    @Test func theMessageCarriesOneIntentToEveryPlatform() throws {
        let message = FCMMessage(
            title: "Door \"open\"", body: "Garage\nnow", imageURL: "https://example.com/door.png", data: ["door": "7", "state": "open"],
            priority: .critical, collapseKey: "door-7", tag: "doors", timeToLiveSeconds: 600, badge: 2, sound: "default", threadID: "doors")
        let body = message.requestBody(token: "tok:APA91b", now: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(
            body == [
                "message": [
                    "token": "tok:APA91b",
                    "notification": ["title": "Door \"open\"", "body": "Garage\nnow", "image": "https://example.com/door.png"],
                    "data": ["door": "7", "state": "open"],
                    "android": ["priority": "high", "collapse_key": "door-7", "notification": ["tag": "doors"], "ttl": "600s"],
                    "apns": [
                        "headers": ["apns-priority": "10", "apns-collapse-id": "door-7", "apns-expiration": "1800000600"],
                        "payload": ["aps": ["badge": 2, "sound": "default", "thread-id": "doors"]],
                    ],
                    "webpush": ["headers": ["Urgency": "high", "TTL": "600"]],
                ]
            ])
        #expect(try JSONValue.parse(body.jsonText()) == body)
        let low = FCMMessage(title: "x", priority: .low).requestBody(token: "t")
        #expect(low["message"]?["android"] == ["priority": "normal"])
        #expect(low["message"]?["apns"] == ["headers": ["apns-priority": "5"]])
        #expect(low["message"]?["webpush"] == ["headers": ["Urgency": "low"]])
        #expect(FCMMessage(title: "x", priority: .medium).requestBody(token: "t")["message"]?["webpush"] == ["headers": ["Urgency": "normal"]])
    }

    // MARK: Google's answers

    static func fcmError(_ code: Int, _ status: String, _ message: String, _ errorCode: String? = nil) -> String {
        var error: [String: JSONValue] = ["code": .number(Double(code)), "status": .string(status), "message": .string(message)]
        if let errorCode {
            error["details"] = [["@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": .string(errorCode)]]
        }
        return JSONValue.object(["error": .object(error)]).jsonText()
    }

    @Test func googlesAnswersMapToOutcomes() {
        func outcome(_ status: Int, _ body: String, retryAfter: String? = nil) -> PushDeviceOutcome {
            FCMSender.outcome(for: OutboundHTTPAnswer(status: status, headers: retryAfter.map { [("Retry-After", $0)] } ?? [], body: body))
        }
        #expect(outcome(200, #"{"name": "projects/p/messages/0:1"}"#) == .accepted("FCM 200, projects/p/messages/0:1"))
        #expect(
            outcome(404, Self.fcmError(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"))
                == .gone("FCM 404 UNREGISTERED: Requested entity was not found."))
        #expect(outcome(404, "") == .gone("FCM 404"))
        #expect(
            outcome(400, Self.fcmError(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT"))
                == .gone("FCM 400 INVALID_ARGUMENT: The registration token is not a valid FCM registration token"))
        #expect(
            outcome(400, Self.fcmError(400, "INVALID_ARGUMENT", "Invalid value at 'message.data[0].value' (TYPE_STRING), 1"))
                == .permanentFailure("FCM 400 INVALID_ARGUMENT: Invalid value at 'message.data[0].value' (TYPE_STRING), 1"))
        #expect(
            outcome(429, Self.fcmError(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED"), retryAfter: "12")
                == .transientFailure("FCM 429 QUOTA_EXCEEDED: Quota exceeded.", retryAfter: 12))
        #expect(
            outcome(503, Self.fcmError(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE"), retryAfter: "3")
                == .transientFailure("FCM 503 UNAVAILABLE: The service is currently unavailable.", retryAfter: 3))
        #expect(
            outcome(500, Self.fcmError(500, "INTERNAL", "Internal error.", "INTERNAL"))
                == .transientFailure("FCM 500 INTERNAL: Internal error.", retryAfter: nil))
        #expect(
            outcome(403, Self.fcmError(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"))
                == .permanentFailure("FCM 403 SENDER_ID_MISMATCH: SenderId mismatch"))
    }

    // MARK: Against the test server

    static func isAccepted(_ outcome: PushDeviceOutcome) -> Bool {
        if case .accepted = outcome { return true }
        return false
    }

    @Test(.timeLimit(.minutes(1))) func twoThousandSendsShareOneTokenExchange() async throws {
        let server = try await FCMTestServer.start()
        defer { server.stop() }
        let sender = try server.sender()
        let tokens = (0..<2000).map { _ in FCMTestServer.registrationToken() }
        let message = FCMMessage(title: "Build finished", body: "main is green", data: ["build": "4711"], priority: .high, collapseKey: "ci")
        let started = ContinuousClock.now
        // Fifty at a time from a cold start: the first fifty all wait for the one exchange.
        let outcomes = await withTaskGroup(of: PushDeviceOutcome.self) { group in
            var outcomes: [PushDeviceOutcome] = []
            var next = 0
            for _ in 0..<50 {
                let token = tokens[next]
                next += 1
                group.addTask { await sender.send(message, token: token) }
            }
            while let outcome = await group.next() {
                outcomes.append(outcome)
                if next < tokens.count {
                    let token = tokens[next]
                    next += 1
                    group.addTask { await sender.send(message, token: token) }
                }
            }
            return outcomes
        }
        let elapsed = ContinuousClock.now - started
        print("FCM: 2,000 sends in \(elapsed)")
        let failures = outcomes.filter { if case .accepted = $0 { false } else { true } }
        #expect(failures.count == 0, "\(failures.prefix(3))")
        let counters = try await server.counters()
        #expect(counters.exchanges == 1)
        #expect(counters.refusedExchanges == 0)
        #expect(counters.sends == 2000 && counters.accepted == 2000)
        #expect(counters.verified == 2001)
        #expect(await sender.tokens.exchanges == 1)
        let records = try server.records()
        #expect(Set(records.compactMap(\.token)) == Set(tokens))
        let exchange = try #require(records.first { $0.kind == "token" })
        #expect(exchange.claims?["aud"] == .string(server.account.tokenURI))
        #expect(exchange.headers["content-type"] == "application/x-www-form-urlencoded")
        let send = try #require(records.first { $0.kind == "send" })
        #expect(send.json?["message"]?["data"] == ["build": "4711"])
        #expect(send.json?["message"]?["android"]?["collapse_key"] == "ci")
    }

    @Test(.timeLimit(.minutes(1))) func tokensTheServerExpiredAreRenewedOnce() async throws {
        let server = try await FCMTestServer.start()
        defer { server.stop() }
        let sender = try server.sender()
        let message = FCMMessage(title: "Hello")
        guard case .accepted = await sender.send(message, token: FCMTestServer.registrationToken()) else {
            Issue.record("the first send failed")
            return
        }
        try await server.expireAccessTokens()
        // Twenty sends in flight all hear 401; the token is exchanged once more, not twenty times.
        let outcomes = await withTaskGroup(of: PushDeviceOutcome.self) { group in
            for _ in 0..<20 { group.addTask { await sender.send(message, token: FCMTestServer.registrationToken()) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { if case .accepted = $0 { true } else { false } }, "\(outcomes.prefix(3))")
        let counters = try await server.counters()
        #expect(counters.exchanges == 2)
        #expect(counters.accepted == 21)
        #expect(counters.unauthenticated >= 1 && counters.unauthenticated <= 20)
    }

    @Test(.timeLimit(.minutes(1))) func aTokenIsRenewedBeforeItRunsOut() async throws {
        // Tokens of 12 s: under twice the five-minute margin, so used for half their life (the margin itself is
        // checked above, against the token endpoint's answer), then exchanged before FCM could refuse them. The
        // assertion is dated by the same clock, so the wait is real.
        let server = try await FCMTestServer.start(expiresIn: 12)
        defer { server.stop() }
        let sender = try server.sender()
        let message = FCMMessage(title: "Hello")
        let started = ContinuousClock.now
        for _ in 0..<3 { #expect(Self.isAccepted(await sender.send(message, token: FCMTestServer.registrationToken()))) }
        if ContinuousClock.now - started < .seconds(5) { #expect(try await server.counters().exchanges == 1) }
        try await Task.sleep(until: started + .seconds(6.5))
        #expect(Self.isAccepted(await sender.send(message, token: FCMTestServer.registrationToken())))
        let counters = try await server.counters()
        #expect(counters.exchanges == 2)
        #expect(counters.unauthenticated == 0)
    }

    @Test func theTokenEndpointsAnswersMapToTokensAndFailures() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        func result(_ status: Int, _ body: String, retryAfter: String? = nil) -> Result<FCMTokenProvider.AccessToken, FCMTokenProvider.Failure> {
            FCMTokenProvider.accessToken(
                from: OutboundHTTPAnswer(status: status, headers: retryAfter.map { [("Retry-After", $0)] } ?? [], body: body), obtainedAt: now)
        }
        let hour = try result(200, #"{"access_token": "ya29.a", "expires_in": 3599, "token_type": "Bearer"}"#).get()
        #expect(hour.value == "ya29.a" && hour.renewAt == now.addingTimeInterval(3299))
        // A token shorter-lived than twice the margin is used for half its life; a missing lifetime is taken as an hour.
        #expect(try result(200, #"{"access_token": "ya29.b", "expires_in": 60}"#).get().renewAt == now.addingTimeInterval(30))
        #expect(try result(200, #"{"access_token": "ya29.c"}"#).get().renewAt == now.addingTimeInterval(3300))
        #expect(throws: FCMTokenProvider.Failure.transient("the OAuth token endpoint answered 200 without an access_token", retryAfter: nil)) {
            try result(200, "{}").get()
        }
        #expect(throws: FCMTokenProvider.Failure.permanent("OAuth token endpoint 400 invalid_grant: Invalid JWT Signature.")) {
            try result(400, #"{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}"#).get()
        }
        #expect(throws: FCMTokenProvider.Failure.transient("OAuth token endpoint answered HTTP 503: busy", retryAfter: 4)) {
            try result(503, "busy", retryAfter: "4").get()
        }
    }

    @Test(.timeLimit(.minutes(1))) func deadTokensAreGoneAndThrottlingTransient() async throws {
        let server = try await FCMTestServer.start()
        defer { server.stop() }
        let sender = try server.sender()
        let message = FCMMessage(title: "Hello", data: ["k": "v"])
        let (uninstalled, throttled, down, broken, foreign) = (
            FCMTestServer.registrationToken(), FCMTestServer.registrationToken(), FCMTestServer.registrationToken(),
            FCMTestServer.registrationToken(), FCMTestServer.registrationToken()
        )
        try await server.fail(token: uninstalled, error: "UNREGISTERED")
        try await server.fail(token: throttled, error: "QUOTA_EXCEEDED", retryAfter: 30)
        try await server.fail(token: down, error: "UNAVAILABLE", retryAfter: 5)
        try await server.fail(token: broken, error: "INTERNAL")
        try await server.fail(token: foreign, error: "SENDER_ID_MISMATCH")

        #expect(await sender.send(message, token: uninstalled) == .gone("FCM 404 UNREGISTERED: Requested entity was not found."))
        #expect(
            await sender.send(message, token: throttled)
                == .transientFailure("FCM 429 QUOTA_EXCEEDED: Quota exceeded for quota metric 'Send requests'.", retryAfter: 30))
        #expect(
            await sender.send(message, token: down) == .transientFailure("FCM 503 UNAVAILABLE: The service is currently unavailable.", retryAfter: 5))
        #expect(await sender.send(message, token: broken) == .transientFailure("FCM 500 INTERNAL: Internal error encountered.", retryAfter: nil))
        #expect(await sender.send(message, token: foreign) == .permanentFailure("FCM 403 SENDER_ID_MISMATCH: SenderId mismatch"))
        // A registration token FCM cannot read at all is gone; a message FCM cannot read is the message's fault.
        #expect(
            await sender.send(message, token: "not a token")
                == .gone("FCM 400 INVALID_ARGUMENT: message.token: The registration token is not a valid FCM registration token"))
        guard case .permanentFailure(let reason) = await sender.send(FCMMessage(data: ["from": "x"]), token: FCMTestServer.registrationToken()) else {
            Issue.record("a reserved data key was not refused")
            return
        }
        #expect(reason.hasPrefix("FCM 400 INVALID_ARGUMENT: message.data[0].key"))
        #expect(try await server.counters().exchanges == 1)
    }

    @Test(.timeLimit(.minutes(1))) func refusedCredentialsAreAPermanentFailure() async throws {
        let server = try await FCMTestServer.start()
        defer { server.stop() }
        // Another key under the same account: Google answers invalid_grant, and no message is sent.
        var impostor = server.account
        impostor.privateKeyPEM = try _RSA.Signing.PrivateKey(keySize: .bits2048).pkcs8PEMRepresentation
        let http = FCMTestServer.http()
        let sender = FCMSender(tokens: try FCMTokenProvider(account: impostor, http: http), http: http, baseURL: server.baseURL)
        guard case .permanentFailure(let reason) = await sender.send(FCMMessage(title: "x"), token: FCMTestServer.registrationToken()) else {
            Issue.record("a refused assertion was not a permanent failure")
            return
        }
        #expect(reason == "OAuth token endpoint 400 invalid_grant: Invalid JWT Signature.")
        let counters = try await server.counters()
        #expect(counters.refusedExchanges == 1 && counters.sends == 0)
    }
}
