import Foundation
@testable import Herald
import HeraldServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The bounce and complaint webhooks of Amazon SES (through SNS), SendGrid, Postmark and Mailgun feed the same
/// suppression list as bounces that come back by SMTP. Payloads are the providers' real formats, signed by
/// scripts/email_webhook_events.py with Python's `cryptography` (SNS's RSA signature under a self-signed
/// certificate, SendGrid's ECDSA) and `hmac` (Mailgun); SNS's certificate and subscription confirmation come from
/// the script's stand-in server on loopback.
@Suite("Email provider webhooks: bounces and complaints from SES, SendGrid, Postmark, Mailgun")
struct ProviderFeedbackTests {
    static let topic = "arn:aws:sns:us-east-1:123456789012:herald-ses-feedback"
    static let postmarkUser = "herald"
    static let postmarkPassword = "pm-webhook-pass-7f3a"
    static let mailgunKey = "key-mailgun-webhook-signing-0c9e"

    // MARK: Providers as the tests drive them

    /// What a webhook reports.
    enum Event: Sendable {
        case hardBounce, softBounce, complaint, delivery
    }

    /// One provider: its configuration in a chain, and its payloads as specs for the script.
    enum Provider: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case ses, sendgrid, postmark, mailgun

        var testDescription: String { rawValue }
        var webhook: EmailWebhookProvider { EmailWebhookProvider(rawValue: rawValue)! }

        func configuration(_ keys: EmailWebhookEvents.Keys) -> EmailTransportConfiguration {
            switch self {
            case .ses:
                .ses(
                    SESConfiguration(
                        region: "us-east-1", accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI", snsTopicARNs: [topic]))
            case .sendgrid: .sendgrid(SendGridConfiguration(apiKey: "SG.test-key", webhookVerificationKey: keys.sendGridVerificationKey))
            case .postmark:
                .postmark(PostmarkConfiguration(serverToken: "pm-server-token", webhookUsername: postmarkUser, webhookPassword: postmarkPassword))
            case .mailgun: .mailgun(MailgunConfiguration(apiKey: "mg-api-key", domain: "mg.maplecourt.example", webhookSigningKey: mailgunKey))
            }
        }

        /// A webhook reporting `event` for `address` about Herald's message `message` of `tenant`.
        func spec(_ event: Event, address: String, message: String?, tenant: String?, sns: EmailWebhookEvents.SNSServer?) -> JSONValue {
            var spec: [String: JSONValue] = ["provider": .string(rawValue), "address": .string(address)]
            if let message { spec["message"] = .string(message) }
            if let tenant { spec["tenant"] = .string(tenant) }
            switch self {
            case .ses:
                let name: JSONValue =
                    switch event {
                    case .hardBounce: "bounce"
                    case .softBounce: "soft_bounce"
                    case .complaint: "complaint"
                    case .delivery: "delivery"
                    }
                spec["event"] = name
                // A hard bounce as an identity notification signed with SHA1withRSA; the rest as configuration-set
                // events signed with SHA256withRSA.
                spec["style"] = event == .hardBounce ? "notification" : "event_publishing"
                spec["signature_version"] = event == .hardBounce ? 1 : 2
                spec["topic_arn"] = .string(topic)
                if let sns { spec["cert_url"] = .string(sns.certificateURL) }
            case .sendgrid:
                var record: [String: JSONValue] = ["address": .string(address)]
                if let message { record["message"] = .string(message) }
                if let tenant { record["tenant"] = .string(tenant) }
                switch event {
                case .hardBounce: record["event"] = "bounce"
                case .softBounce:
                    record["event"] = "bounce"
                    record["type"] = "blocked"
                case .complaint: record["event"] = "spamreport"
                case .delivery: record["event"] = "delivered"
                }
                spec["events"] = .array([.object(record)])
            case .postmark:
                spec["record"] = event == .complaint ? "SpamComplaint" : "Bounce"
                spec["type"] =
                    switch event {
                    case .hardBounce: "HardBounce"
                    case .softBounce: "SoftBounce"
                    case .complaint: "SpamComplaint"
                    case .delivery: "AutoResponder"
                    }
                spec["username"] = .string(postmarkUser)
                spec["password"] = .string(postmarkPassword)
            case .mailgun:
                switch event {
                case .hardBounce:
                    spec["event"] = "failed"
                    spec["severity"] = "permanent"
                case .softBounce:
                    spec["event"] = "failed"
                    spec["severity"] = "temporary"
                case .complaint: spec["event"] = "complained"
                case .delivery: spec["event"] = "delivered"
                }
                spec["key"] = .string(mailgunKey)
                spec["token"] = .string(Self.token())
            }
            return .object(spec)
        }

        /// The same webhook as someone without the provider's key would send it: the signed body altered
        /// (SNS, SendGrid), a guessed password (Postmark), a token the signature was not made for (Mailgun).
        func forged(_ signed: EmailWebhookEvents.Signed, address: String) throws -> EmailWebhookEvents.Signed {
            var forged = signed
            switch self {
            case .ses, .sendgrid:
                forged.body = signed.body.replacingOccurrences(of: address, with: "victim@example.com")
            case .postmark:
                forged.headers["Authorization"] = "Basic " + Data("\(postmarkUser):guess".utf8).base64EncodedString()
            case .mailgun:
                let token = try #require(JSONValue.parse(signed.body)["signature"]?["token"]?.stringValue)
                forged.body = signed.body.replacingOccurrences(of: token, with: Self.token())
            }
            #expect(forged.body != signed.body || forged.headers != signed.headers)
            return forged
        }

        /// The same webhook with its signature or credentials left out.
        func unsigned(_ signed: EmailWebhookEvents.Signed) throws -> EmailWebhookEvents.Signed {
            var unsigned = signed
            switch self {
            case .ses, .mailgun:
                guard case .object(var fields) = try JSONValue.parse(signed.body) else { throw SMTPHarnessError("not an object") }
                fields[self == .ses ? "Signature" : "signature"] = nil
                unsigned.body = JSONValue.object(fields).jsonText()
            case .sendgrid:
                unsigned.headers = signed.headers.filter { !$0.key.lowercased().hasPrefix("x-twilio") }
            case .postmark:
                unsigned.headers["Authorization"] = nil
            }
            return unsigned
        }

        static func token() -> String {
            (0..<50).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        }
    }

    // MARK: Fixture

    /// Two engines on one database: `sender` sends each tenant's email (to the outbox, so every message is really
    /// sent) and `receiver` serves the webhooks with the server chain `serverChain`, as a separate API node would.
    struct Fixture {
        let sender: HeraldEngine
        let receiver: HeraldEngine
        let keys: EmailWebhookEvents.Keys
        let sns: EmailWebhookEvents.SNSServer

        static func make(serverChain: [Provider] = []) async throws -> Fixture {
            let keys = try await EmailWebhookEvents.keys()
            let sns = try await EmailWebhookEvents.SNSServer.start()
            let database = TestEngine.temporaryDirectory().appendingPathComponent("herald.sqlite")
            let sender = try await TestEngine.make({ $0.email.fromAddress = "notices@maplecourt.example" }, database: database)
            let receiver = try await TestEngine.make(
                { configuration in
                    configuration.email.fromAddress = "notices@maplecourt.example"
                    if !serverChain.isEmpty { configuration.email.transports = serverChain.map { $0.configuration(keys) } }
                    // The stand-in SNS on loopback: trusted for certificates and confirmations, and reachable.
                    configuration.email.snsCertificateURLPrefix = sns.prefix
                    configuration.outbound.allowPrivateNetworks = true
                }, database: database)
            return Fixture(sender: sender, receiver: receiver, keys: keys, sns: sns)
        }

        /// A tenant whose subscribers `s0…` (`user<i>@example.com`) were each sent one `notice` email, then given
        /// the chain `chain` (whose credentials verify its own webhook route).
        func tenant(_ name: String, count: Int, chain: [Provider]) async throws -> TenantFixture {
            let (tenant, key) = try await sender.createTenant(name: name)
            try await sender.putEventType(tenantID: tenant.id, EmailDeliveryTests.notice)
            _ = try await sender.upsertSubscribers(
                tenantID: tenant.id, (0..<count).map { SubscriberInput(id: "s\($0)", name: "Résident \($0)", email: "user\($0)@example.com") })
            let sender = self.sender
            let messages = try await sender.whileRunning {
                let (receipt, _) = try await sender.trigger(
                    Trigger(type: "notice", recipients: (0..<count).map { .subscriber("s\($0)") }, payload: ["n": 1]), tenantID: tenant.id)
                return try await sender.settledMessages(tenantID: tenant.id, eventID: receipt.eventId).map(\.0)
            }
            #expect(messages.count == count && messages.allSatisfy { $0.status == .sent }, "\(messages.map(\.status))")
            if !chain.isEmpty {
                var settings = EmailSettings()
                settings.transports = chain.map { $0.configuration(keys) }
                try await sender.putEmailSettings(tenantID: tenant.id, settings)
            }
            return TenantFixture(id: tenant.id, key: key.key, messages: Dictionary(uniqueKeysWithValues: messages.map { ($0.subscriberId, $0.id) }))
        }

        /// Runs `body` against the receiver's routes.
        func api(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
            let app = Application(router: HeraldServer.router(engine: receiver))
            try await app.test(.router) { client in try await body(Client(client: client, fixture: self)) }
        }
    }

    struct TenantFixture: Sendable {
        var id: String
        var key: String
        /// Message id by subscriber id.
        var messages: [String: String]

        func message(_ subscriber: String) throws -> String { try #require(messages[subscriber]) }
    }

    /// Posts webhooks exactly as signed and reads what the tenant API says came of them.
    struct Client: Sendable {
        let client: any TestClientProtocol
        let fixture: Fixture

        struct Answer {
            var status: HTTPResponse.Status
            var headers: HTTPFields
            var json: JSONValue
            var text: String
        }

        @discardableResult
        func post(_ path: String, _ signed: EmailWebhookEvents.Signed) async throws -> Answer {
            var headers = HTTPFields()
            for (name, value) in signed.headers { headers[try #require(HTTPField.Name(name))] = value }
            let response = try await client.executeRequest(uri: path, method: .post, headers: headers, body: ByteBuffer(string: signed.body))
            let text = String(buffer: response.body)
            return Answer(status: response.status, headers: response.headers, json: (try? JSONValue.parse(text)) ?? .null, text: text)
        }

        /// Signs `spec` and posts it.
        @discardableResult
        func post(_ path: String, spec: JSONValue) async throws -> Answer {
            try await post(path, try await EmailWebhookEvents.sign(spec))
        }

        /// The tenant's suppression list, by address: (reason, detail, message id).
        func suppressions(_ tenant: TenantFixture) async throws -> [String: (reason: String, detail: String, message: String)] {
            let response = try await client.executeRequest(
                uri: "/v1/suppressions", method: .get, headers: [.authorization: "Bearer \(tenant.key)"], body: nil)
            #expect(response.status == .ok)
            guard case .array(let items)? = try JSONValue.parse(String(buffer: response.body))["data"] else { return [:] }
            var entries: [String: (String, String, String)] = [:]
            for item in items {
                guard let address = item["address"]?.stringValue else { continue }
                entries[address] = (item["reason"]?.stringValue ?? "", item["detail"]?.stringValue ?? "", item["message_id"]?.stringValue ?? "")
            }
            return entries
        }

        /// The feedback recorded against a message, as `GET /v1/messages/{id}` shows it: (kind, status, detail).
        func feedback(_ tenant: TenantFixture, _ message: String) async throws -> [(kind: String, status: String?, detail: String)] {
            let response = try await client.executeRequest(
                uri: "/v1/messages/\(message)", method: .get, headers: [.authorization: "Bearer \(tenant.key)"], body: nil)
            #expect(response.status == .ok)
            guard case .array(let items)? = try JSONValue.parse(String(buffer: response.body))["email_feedback"] else { return [] }
            return items.map { ($0["kind"]?.stringValue ?? "", $0["status"]?.stringValue, $0["detail"]?.stringValue ?? "") }
        }
    }

    // MARK: End to end, through the routes

    @Test(
        "a tenant's webhook: a bounce and a complaint suppress, soft bounces suppress at the threshold, a bad or missing signature is a 401 that records nothing",
        arguments: Provider.allCases)
    func tenantWebhookFeedsTheSuppressionList(_ provider: Provider) async throws {
        let fixture = try await Fixture.make()
        let tenant = try await fixture.tenant("Maple Court", count: 5, chain: [provider])
        let path = "/hooks/email/\(provider.rawValue)/\(tenant.id)"
        let sns = fixture.sns
        @Sendable func spec(_ event: Event, _ subscriber: String) throws -> JSONValue {
            provider.spec(
                event, address: "user\(subscriber.dropFirst())@example.com", message: try tenant.message(subscriber), tenant: tenant.id, sns: sns)
        }
        try await fixture.api { api in
            // A hard bounce suppresses at once, as an SMTP bounce does: reason `bounced`, the message named, the
            // provider in the detail, and `hard_bounce` feedback on the message.
            let hard = try await api.post(path, spec: try spec(.hardBounce, "s0"))
            #expect(hard.status == .ok, "\(hard.text)")
            #expect(hard.json["recorded"] == 1 && hard.json["ignored"] == 0, "\(hard.text)")
            var list = try await api.suppressions(tenant)
            let bounced = try #require(list["user0@example.com"])
            let bouncedMessage = try tenant.message("s0")
            #expect(bounced.reason == "bounced" && bounced.message == bouncedMessage)
            #expect(bounced.detail.contains(provider.webhook.displayName), "\(bounced.detail)")
            let hardFeedback = try await api.feedback(tenant, try tenant.message("s0"))
            #expect(hardFeedback.map(\.kind) == ["hard_bounce"])
            #expect(
                hardFeedback.first?.status == "5.1.1" && hardFeedback.first?.detail.contains(provider.webhook.displayName) == true, "\(hardFeedback)")

            // A complaint: `complained`.
            let complaint = try await api.post(path, spec: try spec(.complaint, "s1"))
            #expect(complaint.status == .ok && complaint.json["recorded"] == 1, "\(complaint.text)")
            list = try await api.suppressions(tenant)
            #expect(list["user1@example.com"]?.reason == "complained")
            #expect(try await api.feedback(tenant, try tenant.message("s1")).map(\.kind) == ["complaint"])

            // Soft bounces count toward the threshold (3 by default): recorded, not suppressed, until the third.
            for round in 1...3 {
                let soft = try await api.post(path, spec: try spec(.softBounce, "s2"))
                #expect(soft.status == .ok && soft.json["recorded"] == 1, "\(soft.text)")
                let suppressed = try await api.suppressions(tenant)["user2@example.com"]
                #expect((suppressed != nil) == (round == 3), "after soft bounce \(round): \(String(describing: suppressed))")
            }
            #expect(try await api.feedback(tenant, try tenant.message("s2")).map(\.kind) == ["soft_bounce", "soft_bounce", "soft_bounce"])
            #expect(try await api.suppressions(tenant)["user2@example.com"]?.detail.hasPrefix("3 soft bounces") == true)

            // Forged and unsigned webhooks: 401 problem+json, nothing recorded, nothing suppressed.
            let genuine = try await EmailWebhookEvents.sign(try spec(.hardBounce, "s3"))
            for refused in [try provider.forged(genuine, address: "user3@example.com"), try provider.unsigned(genuine)] {
                let answer = try await api.post(path, refused)
                #expect(answer.status == .unauthorized, "\(answer.text)")
                #expect(answer.headers[.contentType] == "application/problem+json")
                #expect(answer.json["type"] == "urn:herald:problem:webhook-not-verified", "\(answer.text)")
            }
            if provider == .postmark {
                #expect(try await api.post(path, try provider.unsigned(genuine)).headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            }
            #expect(try await api.suppressions(tenant)["user3@example.com"] == nil)
            #expect(try await api.suppressions(tenant)["victim@example.com"] == nil)
            #expect(try await api.feedback(tenant, try tenant.message("s3")).isEmpty)

            // An event that is no bounce or complaint: 200, nothing recorded.
            let delivery = try await api.post(path, spec: try spec(.delivery, "s4"))
            #expect(delivery.status == .ok && delivery.json["recorded"] == 0 && delivery.json["ignored"] == 1, "\(delivery.text)")
            #expect(try await api.feedback(tenant, try tenant.message("s4")).isEmpty)

            // The genuine webhook is taken after all that.
            let taken = try await api.post(path, genuine)
            #expect(taken.status == .ok && taken.json["recorded"] == 1, "\(taken.text)")
            #expect(
                try await api.suppressions(tenant).keys.sorted() == [
                    "user0@example.com", "user1@example.com", "user2@example.com", "user3@example.com",
                ])

            // A body that is not the provider's format: 400 (signed as it is where the provider signs bodies).
            let malformed: EmailWebhookEvents.Signed
            switch provider {
            case .ses, .mailgun: malformed = EmailWebhookEvents.Signed(headers: ["Content-Type": "application/json"], body: "{\"Type\": ")
            case .sendgrid, .postmark:
                guard case .object(var fields) = try spec(.hardBounce, "s4") else { return }
                fields["raw_body"] = "{\"email\": "
                malformed = try await EmailWebhookEvents.sign(.object(fields))
            }
            let bad = try await api.post(path, malformed)
            #expect(bad.status == .badRequest && bad.json["type"] == "urn:herald:problem:malformed-webhook", "\(bad.text)")
        }
    }

    @Test(
        "the server's webhook takes events for any tenant's message, each into that tenant; a tenant's webhook ignores another tenant's message",
        arguments: Provider.allCases)
    func serverWebhookRoutesEachEventToItsMessagesTenant(_ provider: Provider) async throws {
        let fixture = try await Fixture.make(serverChain: [provider])
        let first = try await fixture.tenant("First", count: 1, chain: [provider])
        let second = try await fixture.tenant("Second", count: 1, chain: [])
        let sns = fixture.sns
        try await fixture.api { api in
            // The server route: the event names the second tenant's message, and lands there only.
            let spec = provider.spec(.hardBounce, address: "user0@example.com", message: try second.message("s0"), tenant: second.id, sns: sns)
            let answer = try await api.post("/hooks/email/\(provider.rawValue)", spec: spec)
            #expect(answer.status == .ok && answer.json["recorded"] == 1, "\(answer.text)")
            #expect(try await api.suppressions(second)["user0@example.com"]?.reason == "bounced")
            #expect(try await api.suppressions(first).isEmpty)

            // The first tenant's route verifies with its own (same) credentials, but the second tenant's message is
            // not its own: ignored, so a tenant cannot touch another's list.
            let foreign = provider.spec(.complaint, address: "user0@example.com", message: try second.message("s0"), tenant: second.id, sns: sns)
            let ignored = try await api.post("/hooks/email/\(provider.rawValue)/\(first.id)", spec: foreign)
            #expect(ignored.status == .ok && ignored.json["recorded"] == 0 && ignored.json["ignored"] == 1, "\(ignored.text)")
            #expect(try await api.suppressions(first).isEmpty)
            #expect(try await api.suppressions(second)["user0@example.com"]?.reason == "bounced")

            // Tagged with a tenant that is not the message's: ignored too.
            let mislabelled = provider.spec(.complaint, address: "user0@example.com", message: try first.message("s0"), tenant: second.id, sns: sns)
            let wrongTenant = try await api.post("/hooks/email/\(provider.rawValue)", spec: mislabelled)
            #expect(wrongTenant.status == .ok && wrongTenant.json["recorded"] == 0, "\(wrongTenant.text)")
            // A message nobody sent, and none at all: ignored.
            for message in ["msg_987654321", nil] {
                let unknown = provider.spec(.hardBounce, address: "user0@example.com", message: message, tenant: nil, sns: sns)
                let answer = try await api.post("/hooks/email/\(provider.rawValue)", spec: unknown)
                #expect(answer.status == .ok && answer.json["recorded"] == 0 && answer.json["ignored"] == 1, "\(answer.text)")
            }
            #expect(try await api.suppressions(first).isEmpty)

            // A provider the chain does not have: nothing verifies.
            let other: Provider = provider == .sendgrid ? .mailgun : .sendgrid
            let stranger = other.spec(.hardBounce, address: "user0@example.com", message: try first.message("s0"), tenant: first.id, sns: sns)
            #expect(try await api.post("/hooks/email/\(other.rawValue)", spec: stranger).status == .unauthorized)
            #expect(try await api.post("/hooks/email/\(other.rawValue)/\(first.id)", spec: stranger).status == .unauthorized)
            // An unknown provider is a 404.
            #expect(try await api.post("/hooks/email/sparkpost", EmailWebhookEvents.Signed(headers: [:], body: "[]")).status == .notFound)
        }
    }

    @Test("SNS: a subscription confirmation is confirmed by a GET of its SubscribeURL; one whose URL, topic or certificate is not SNS's is refused")
    func snsSubscriptionConfirmation() async throws {
        let fixture = try await Fixture.make(serverChain: [.ses])
        let tenant = try await fixture.tenant("Maple Court", count: 1, chain: [.ses])
        let sns = fixture.sns
        @Sendable func confirmation(topic: String = Self.topic, subscribeURL: String? = nil, certificateURL: String? = nil) -> JSONValue {
            [
                "provider": "ses", "type": "SubscriptionConfirmation", "topic_arn": .string(topic),
                "subscribe_url": .string(subscribeURL ?? sns.subscribeURL), "cert_url": .string(certificateURL ?? sns.certificateURL),
                "signature_version": 2,
            ]
        }
        try await fixture.api { api in
            for path in ["/hooks/email/ses/\(tenant.id)", "/hooks/email/ses"] {
                let before = try sns.confirmations().count
                let signed = try await EmailWebhookEvents.sign(confirmation())
                let answer = try await api.post(path, signed)
                #expect(answer.status == .ok && answer.json["subscription_confirmed"] == true, "\(answer.text)")
                let confirmed = try sns.confirmations()
                #expect(confirmed.count == before + 1)
                let token = try #require(JSONValue.parse(signed.body)["Token"]?.stringValue)
                #expect(confirmed.last?["Token"] == token && confirmed.last?["TopicArn"] == Self.topic)
            }
            let count = try sns.confirmations().count
            // A SubscribeURL off SNS's hosts, a topic the configuration does not list, a certificate URL off SNS's
            // hosts: 401, and nothing is fetched or confirmed.
            for spec in [
                confirmation(subscribeURL: "https://sns.us-east-1.amazonaws.com.evil.example/confirm"),
                confirmation(topic: "arn:aws:sns:us-east-1:999999999999:someone-else"),
                confirmation(certificateURL: "https://evil.example/SimpleNotificationService-test.pem"),
                confirmation(certificateURL: "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem"),
            ] {
                let answer = try await api.post("/hooks/email/ses/\(tenant.id)", spec: spec)
                #expect(answer.status == .unauthorized, "\(answer.text)")
            }
            #expect(try sns.confirmations().count == count)
            // An unsubscription is noted and answered.
            var unsubscribe = confirmation()
            if case .object(var fields) = unsubscribe {
                fields["type"] = "UnsubscribeConfirmation"
                unsubscribe = .object(fields)
            }
            let answer = try await api.post("/hooks/email/ses/\(tenant.id)", spec: unsubscribe)
            #expect(answer.status == .ok && answer.json["recorded"] == 0, "\(answer.text)")
            #expect(try sns.confirmations().count == count)

            // A body over the bound (4 MB) is a 413 before anything reads it.
            let huge = EmailWebhookEvents.Signed(headers: [:], body: String(repeating: "x", count: (4 << 20) + 1))
            let tooLarge = try await api.post("/hooks/email/sendgrid/\(tenant.id)", huge)
            #expect(tooLarge.status == .contentTooLarge, "\(tooLarge.status)")
        }
    }

    @Test("email.sns_certificate_url_prefix comes from herald.yml or HERALD_SNS_CERTIFICATE_URL_PREFIX, and must be an absolute URL")
    func snsCertificatePrefixSetting() throws {
        let file = TestEngine.temporaryDirectory().appendingPathComponent("herald.yml")
        try "email:\n  sns_certificate_url_prefix: http://127.0.0.1:9/\n".write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try HeraldConfiguration.load(file: file.path, environment: [:])
        #expect(fromFile.email.snsCertificateURLPrefix == "http://127.0.0.1:9/")
        try fromFile.validate()
        let fromEnvironment = try HeraldConfiguration.load(file: file.path, environment: ["HERALD_SNS_CERTIFICATE_URL_PREFIX": "http://127.0.0.1:8/"])
        #expect(fromEnvironment.email.snsCertificateURLPrefix == "http://127.0.0.1:8/")
        #expect(HeraldConfiguration().email.snsCertificateURLPrefix == nil)
        let bad = try HeraldConfiguration.load(file: file.path, environment: ["HERALD_SNS_CERTIFICATE_URL_PREFIX": "127.0.0.1"])
        #expect(throws: ConfigurationError.self) { try bad.validate() }
        do {
            try bad.validate()
        } catch let error as ConfigurationError {
            #expect(error.description.contains("email.sns_certificate_url_prefix"))
        }
    }

    @Test("repeats: an SNS message and a SendGrid event are taken once; a replayed or stale Mailgun webhook is refused")
    func repeatsAreTakenOnce() async throws {
        let fixture = try await Fixture.make()
        let tenant = try await fixture.tenant("Maple Court", count: 3, chain: [.ses, .sendgrid, .mailgun])
        let sns = fixture.sns
        try await fixture.api { api in
            for (index, provider) in [Provider.ses, .sendgrid].enumerated() {
                let subscriber = "s\(index)"
                let spec = provider.spec(
                    .softBounce, address: "user\(index)@example.com", message: try tenant.message(subscriber), tenant: tenant.id, sns: sns)
                let signed = try await EmailWebhookEvents.sign(spec)
                let first = try await api.post("/hooks/email/\(provider.rawValue)/\(tenant.id)", signed)
                let again = try await api.post("/hooks/email/\(provider.rawValue)/\(tenant.id)", signed)
                #expect(first.json["recorded"] == 1 && again.status == .ok && again.json["recorded"] == 0, "\(provider): \(again.text)")
                #expect(try await api.feedback(tenant, try tenant.message(subscriber)).count == 1)
            }
            let spec = Provider.mailgun.spec(
                .softBounce, address: "user2@example.com", message: try tenant.message("s2"), tenant: tenant.id, sns: nil)
            let signed = try await EmailWebhookEvents.sign(spec)
            #expect(try await api.post("/hooks/email/mailgun/\(tenant.id)", signed).json["recorded"] == 1)
            let replay = try await api.post("/hooks/email/mailgun/\(tenant.id)", signed)
            #expect(replay.status == .unauthorized && replay.text.contains("used before"), "\(replay.text)")
            guard case .object(var fields) = spec else { return }
            fields["timestamp"] = .number(Double(Int(Date().timeIntervalSince1970) - 3600))
            fields["token"] = .string(Provider.token())
            let stale = try await api.post("/hooks/email/mailgun/\(tenant.id)", spec: .object(fields))
            #expect(stale.status == .unauthorized && stale.text.contains("10 minutes"), "\(stale.text)")
            #expect(try await api.feedback(tenant, try tenant.message("s2")).count == 1)
        }
    }

    // MARK: Parsers and verifiers, without I/O

    /// Payloads signed by the script, for the pure checks.
    static func signed(_ specs: [JSONValue]) async throws -> [EmailWebhookEvents.Signed] {
        try await EmailWebhookEvents.sign(specs)
    }

    @Test(
        "SNS signatures: versions 1 and 2 verify under the certificate, an altered field or another version does not; the certificate must be valid now"
    )
    func snsSignatures() async throws {
        let keys = try await EmailWebhookEvents.keys()
        let specs: [JSONValue] = [
            ["provider": "ses", "event": "bounce", "address": "a@example.com", "message": "msg_7", "signature_version": 1],
            [
                "provider": "ses", "event": "complaint", "address": "b@example.com", "style": "event_publishing", "signature_version": 2,
                "subject": "Amazon SES Email Event Notification",
            ],
            ["provider": "ses", "type": "SubscriptionConfirmation", "signature_version": 1],
            ["provider": "ses", "type": "UnsubscribeConfirmation", "signature_version": 2],
        ]
        let verifier = try SNSSignatureVerifier(certificatePEM: keys.snsCertificatePEM, now: Date())
        for (spec, signed) in zip(specs, try await Self.signed(specs)) {
            let message = try SNSMessage.parse(Array(signed.body.utf8))
            #expect(verifier.isValid(message), "\(spec)")
            var altered = message
            altered.message += " "
            #expect(!verifier.isValid(altered))
            altered = message
            altered.timestamp = "2020-01-01T00:00:00.000Z"
            #expect(!verifier.isValid(altered))
            altered = message
            altered.signatureVersion = message.signatureVersion == "1" ? "2" : "1"
            #expect(!verifier.isValid(altered))
            altered.signatureVersion = "3"
            #expect(!verifier.isValid(altered))
            if message.kind == .notification {
                #expect(message.subject == spec["subject"]?.stringValue)
                altered = message
                altered.subject = message.subject == nil ? "injected" : nil
                #expect(!verifier.isValid(altered))
            } else {
                #expect(message.token != nil && message.subscribeURL?.contains("Action=ConfirmSubscription") == true)
            }
        }
        // Outside its validity, or not a certificate at all.
        #expect(throws: EmailWebhookError.self) {
            try SNSSignatureVerifier(certificatePEM: keys.snsCertificatePEM, now: Date(timeIntervalSince1970: 4_200_000_000))
        }
        #expect(throws: EmailWebhookError.self) {
            try SNSSignatureVerifier(certificatePEM: keys.snsCertificatePEM, now: Date(timeIntervalSince1970: 0))
        }
        #expect(throws: EmailWebhookError.self) {
            try SNSSignatureVerifier(certificatePEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", now: Date())
        }
    }

    @Test(
        "SNS certificate and confirmation URLs: https on an SNS host only, or the operator's trusted prefix",
        arguments: [
            ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", true),
            ("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=x", true),
            ("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem", true),
            ("https://SNS.US-EAST-1.AMAZONAWS.COM/cert.pem", true),
            ("http://sns.us-east-1.amazonaws.com/cert.pem", false),
            ("https://sns.us-east-1.amazonaws.com.evil.example/cert.pem", false),
            ("https://evil.example/sns.us-east-1.amazonaws.com/cert.pem", false),
            ("https://sns.amazonaws.com/cert.pem", false),
            ("https://s3.us-east-1.amazonaws.com/cert.pem", false),
            ("https://sns.us_east.amazonaws.com/cert.pem", false),
            ("https://user:pw@sns.us-east-1.amazonaws.com/cert.pem", false),
            ("https://sns.us-east-1.amazonaws.com:8443/cert.pem", false),
            ("http://127.0.0.1:9/SimpleNotificationService-test.pem", true),
            ("http://127.0.0.2:9/SimpleNotificationService-test.pem", false),
            ("not a url", false),
        ])
    func snsURLs(_ url: String, _ allowed: Bool) {
        #expect((SNSSignatureVerifier.urlProblem(url, trustedPrefix: "http://127.0.0.1:9/") == nil) == allowed)
        if url.hasPrefix("http://127.0.0.1") { #expect(SNSSignatureVerifier.urlProblem(url, trustedPrefix: nil) != nil) }
    }

    @Test("SES notifications and events: Permanent is hard, Transient soft, complaints complaints, Herald's id from the tag or the header")
    func sesNotifications() async throws {
        let specs: [JSONValue] = [
            ["provider": "ses", "event": "bounce", "address": "Hard@Example.com", "message": "msg_11", "style": "notification"],
            [
                "provider": "ses", "event": "soft_bounce", "address": "soft@example.com", "message": "msg_12", "tenant": "t_5",
                "style": "event_publishing",
            ],
            ["provider": "ses", "event": "complaint", "address": "comp@example.com", "message": "msg_13", "style": "notification"],
            ["provider": "ses", "event": "delivery", "address": "ok@example.com", "message": "msg_14", "style": "event_publishing"],
            ["provider": "ses", "event": "bounce", "address": "anon@example.com", "style": "event_publishing"],
        ]
        let feedback = try await Self.signed(specs).map { SESNotification.feedback(in: try SNSMessage.parse(Array($0.body.utf8)).message) }
        #expect(feedback[0].map(\.kind) == [.hardBounce] && feedback[0].first?.address == "hard@example.com")
        #expect(feedback[0].first?.messageID == "msg_11" && feedback[0].first?.status == "5.1.1")
        #expect(feedback[0].first?.detail == "Amazon SES Permanent/General bounce: smtp; 550 5.1.1 user unknown")
        #expect(feedback[1].map(\.kind) == [.softBounce] && feedback[1].first?.messageID == "msg_12" && feedback[1].first?.status == "4.2.2")
        #expect(feedback[1].first?.tenantID == "t_5" && feedback[0].first?.tenantID == nil)
        #expect(feedback[2].map(\.kind) == [.complaint] && feedback[2].first?.status == "abuse" && feedback[2].first?.messageID == "msg_13")
        #expect(feedback[2].first?.report.feedbackType == "abuse" && feedback[2].first?.report.kind == .complaint)
        #expect(feedback[3].isEmpty)
        #expect(feedback[4].count == 1 && feedback[4].first?.messageID == nil)
        // Not JSON, or some other SNS topic's message: nothing.
        #expect(SESNotification.feedback(in: "hello").isEmpty && SESNotification.feedback(in: "{\"notificationType\": \"Bounce\"}").isEmpty)
    }

    @Test("SendGrid: the ECDSA signature over timestamp and body verifies; bounce, blocked, dropped and spam reports are read, the rest ignored")
    func sendGridEvents() async throws {
        let keys = try await EmailWebhookEvents.keys()
        let records: [JSONValue] = [
            ["event": "bounce", "address": "hard@example.com", "message": "msg_21", "tenant": "t_1"],
            ["event": "bounce", "type": "blocked", "address": "soft@example.com", "message": "msg_22"],
            ["event": "dropped", "reason": "Bounced Address", "address": "dropped@example.com", "message": "msg_23"],
            ["event": "dropped", "reason": "Spam Reporting Address", "address": "reported@example.com", "message": "msg_24"],
            ["event": "dropped", "reason": "Unsubscribed Address", "address": "unsub@example.com", "message": "msg_25"],
            ["event": "spamreport", "address": "spam@example.com", "message": "msg_26"],
            ["event": "delivered", "address": "ok@example.com", "message": "msg_27"],
        ]
        let signed = try await EmailWebhookEvents.sign(["provider": "sendgrid", "events": .array(records)])
        let verifier = try #require(SendGridSignatureVerifier(verificationKey: keys.sendGridVerificationKey))
        let signature = try #require(signed.headers["X-Twilio-Email-Event-Webhook-Signature"])
        let timestamp = try #require(signed.headers["X-Twilio-Email-Event-Webhook-Timestamp"])
        let body = Array(signed.body.utf8)
        #expect(verifier.isValid(signature: signature, timestamp: timestamp, body: body))
        #expect(!verifier.isValid(signature: signature, timestamp: String((Int(timestamp) ?? 0) + 1), body: body))
        #expect(!verifier.isValid(signature: signature, timestamp: timestamp, body: body + [0x20]))
        #expect(!verifier.isValid(signature: "not base64!", timestamp: timestamp, body: body))
        #expect(SendGridSignatureVerifier(verificationKey: "bm90IGEga2V5") == nil)

        let (feedback, events) = try SendGridEvent.feedback(in: body)
        #expect(events == 7)
        #expect(feedback.map(\.kind) == [.hardBounce, .softBounce, .hardBounce, .complaint, .complaint])
        #expect(
            feedback.map(\.address) == ["hard@example.com", "soft@example.com", "dropped@example.com", "reported@example.com", "spam@example.com"])
        #expect(feedback.map(\.messageID) == ["msg_21", "msg_22", "msg_23", "msg_24", "msg_26"])
        #expect(feedback[0].tenantID == "t_1" && feedback[0].status == "5.1.1" && feedback[0].detail.hasPrefix("SendGrid bounce: 550 5.1.1"))
        #expect(feedback[1].detail.hasPrefix("SendGrid blocked:") && feedback.allSatisfy { $0.eventID?.hasPrefix("sendgrid:") == true })
        #expect(throws: EmailWebhookError.self) { try SendGridEvent.feedback(in: Array("{\"event\": \"bounce\"}".utf8)) }
    }

    @Test("Postmark: Basic credentials compared exactly; bounce types mapped as Postmark's table says")
    func postmarkWebhooks() async throws {
        let basic = { (user: String, password: String) in "Basic " + Data("\(user):\(password)".utf8).base64EncodedString() }
        #expect(PostmarkWebhook.credentialsMatch(basic("herald", "pw:with:colons"), username: "herald", password: "pw:with:colons"))
        #expect(PostmarkWebhook.credentialsMatch("basic  " + Data("herald:pw".utf8).base64EncodedString(), username: "herald", password: "pw"))
        for wrong in [basic("herald", "pw2"), basic("herald", "p"), basic("Herald", "pw"), "Bearer x", "Basic !!!", ""] {
            #expect(!PostmarkWebhook.credentialsMatch(wrong, username: "herald", password: "pw"), "\(wrong)")
        }
        #expect(!PostmarkWebhook.credentialsMatch(nil, username: "herald", password: "pw"))

        let types: [(String, String, EmailFeedback.Kind?)] = [
            ("Bounce", "HardBounce", .hardBounce), ("Bounce", "BadEmailAddress", .hardBounce), ("Bounce", "ManuallyDeactivated", .hardBounce),
            ("Bounce", "SoftBounce", .softBounce), ("Bounce", "Transient", .softBounce), ("Bounce", "DnsError", .softBounce),
            ("Bounce", "SpamNotification", .softBounce), ("Bounce", "Blocked", .softBounce), ("Bounce", "AutoResponder", nil),
            ("SpamComplaint", "SpamComplaint", .complaint),
        ]
        let specs: [JSONValue] = types.map {
            [
                "provider": "postmark", "record": .string($0.0), "type": .string($0.1), "address": "John@Example.com", "message": "msg_31",
                "tenant": "t_9",
            ]
        }
        for (type, signed) in zip(types, try await Self.signed(specs)) {
            let feedback = try PostmarkWebhook.feedback(in: Array(signed.body.utf8))
            #expect(feedback.map(\.kind) == (type.2.map { [$0] } ?? []), "\(type.1)")
            if let item = feedback.first {
                #expect(
                    item.address == "john@example.com" && item.messageID == "msg_31" && item.tenantID == "t_9" && item.detail.hasPrefix("Postmark "))
            }
            if type.1 == "HardBounce" { #expect(feedback.first?.status == "5.1.1", "\(feedback)") }
        }
        #expect(throws: EmailWebhookError.self) { try PostmarkWebhook.feedback(in: Array("[1, 2]".utf8)) }
        #expect(try PostmarkWebhook.feedback(in: Array("{\"RecordType\": \"Delivery\", \"Email\": \"a@example.com\"}".utf8)).isEmpty)
    }

    @Test("Mailgun: HMAC-SHA256 of timestamp and token under the signing key, within 10 minutes; failed and complained events read")
    func mailgunWebhooks() async throws {
        let specs: [JSONValue] = [
            [
                "provider": "mailgun", "event": "failed", "severity": "permanent", "address": "hard@example.com", "message": "msg_41",
                "tenant": "t_2", "key": .string(Self.mailgunKey),
            ],
            [
                "provider": "mailgun", "event": "failed", "severity": "temporary", "address": "soft@example.com", "message": "msg_42",
                "key": .string(Self.mailgunKey),
            ],
            ["provider": "mailgun", "event": "complained", "address": "spam@example.com", "message": "msg_43", "key": .string(Self.mailgunKey)],
            ["provider": "mailgun", "event": "delivered", "address": "ok@example.com", "message": "msg_44", "key": .string(Self.mailgunKey)],
        ]
        let webhooks = try await Self.signed(specs).map { try MailgunWebhook.parse(Array($0.body.utf8)) }
        let verifier = MailgunSignatureVerifier(signingKey: Self.mailgunKey)
        let now = Date(timeIntervalSince1970: try #require(Double(webhooks[0].timestamp)))
        #expect(webhooks.allSatisfy { verifier.isValid($0) && MailgunSignatureVerifier.isFresh($0, now: now) })
        #expect(!webhooks.contains { MailgunSignatureVerifier(signingKey: "another-key").isValid($0) })
        var altered = webhooks[0]
        altered.token = Provider.token()
        #expect(!verifier.isValid(altered))
        altered = webhooks[0]
        altered.signature = String(altered.signature.reversed())
        #expect(!verifier.isValid(altered))
        #expect(!MailgunSignatureVerifier.isFresh(webhooks[0], now: now.addingTimeInterval(601)))
        #expect(!MailgunSignatureVerifier.isFresh(webhooks[0], now: now.addingTimeInterval(-601)))

        #expect(webhooks.map { $0.feedback.map(\.kind) } == [[.hardBounce], [.softBounce], [.complaint], []])
        #expect(webhooks[0].feedback.first?.messageID == "msg_41" && webhooks[0].feedback.first?.tenantID == "t_2")
        #expect(
            webhooks[0].feedback.first?.status == "5.1.1"
                && webhooks[0].feedback.first?.detail.hasPrefix("Mailgun permanent failure (bounce): 550") == true)
        #expect(throws: EmailWebhookError.unauthenticated("the Mailgun webhook has no signature (timestamp, token, signature)")) {
            try MailgunWebhook.parse(Array("{\"event-data\": {}}".utf8))
        }
        #expect(throws: EmailWebhookError.self) { try MailgunWebhook.parse(Array("nope".utf8)) }
    }

    @Test("the replay guard takes an id once within its window, forgets released ids, and keeps at most its limit")
    func replayGuard() {
        let guardian = WebhookReplayGuard(window: 60, limit: 100)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(guardian.claim("a", now: start) && !guardian.claim("a", now: start.addingTimeInterval(59)))
        #expect(guardian.claim("a", now: start.addingTimeInterval(61)))
        guardian.release("a")
        #expect(guardian.claim("a", now: start.addingTimeInterval(62)))
        for index in 0..<1000 { #expect(guardian.claim("id-\(index)", now: start.addingTimeInterval(62))) }
        #expect(guardian.count <= 100)
        #expect(!guardian.claim("id-999", now: start.addingTimeInterval(63)))
        // Everything is forgotten once the window has passed.
        #expect(guardian.claim("id-999", now: start.addingTimeInterval(200)) && guardian.count == 1)
    }

    @Test("hostile bodies: no parser traps, and each answers malformed or no feedback")
    func hostileBodies() throws {
        var bodies: [[UInt8]] = [
            [], Array("null".utf8), Array("[]".utf8), Array("{}".utf8), [0xff, 0xfe, 0x00], Array(repeating: UInt8(ascii: "["), count: 100_000),
        ]
        bodies.append(Array("{\"Type\": \"Notification\", \"Signature\": 1}".utf8))
        bodies.append(
            Array(
                ("[" + String(repeating: "{\"event\": \"bounce\", \"email\": \"\(String(repeating: "a", count: 5000))@x.example\"},", count: 50)
                    + "{}]").utf8))
        bodies.append(Array("{\"RecordType\": \"Bounce\", \"Type\": \"HardBounce\", \"Email\": \"a@b.example\\u0000\\r\\nBcc: x@y\"}".utf8))
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 { bodies.append((0..<Int.random(in: 1...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }) }
        for body in bodies {
            _ = try? SNSMessage.parse(body)
            _ = SESNotification.feedback(in: String(decoding: body, as: UTF8.self))
            if let (feedback, _) = try? SendGridEvent.feedback(in: body) { #expect(feedback.isEmpty) }
            if let feedback = try? PostmarkWebhook.feedback(in: body) { #expect(feedback.isEmpty) }
            _ = try? MailgunWebhook.parse(body)
        }
        // A detail is cleaned and bounded whatever the provider said.
        let long = ProviderFeedback.detail(.mailgun, "failure", String(repeating: "x\r\n", count: 10_000))
        #expect(long.count <= ProviderFeedback.maximumDetailLength && !long.contains("\n") && !long.contains("\r"))
    }
}
