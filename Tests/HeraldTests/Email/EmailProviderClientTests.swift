import Foundation
import Testing

@testable import Herald

/// Each provider's wire format and the meaning of its answers, as plain values: no socket. The local servers in
/// scripts/email_api_test_server.py check the same requests end to end (EmailProviderDeliveryTests).
@Suite("Email provider APIs: requests and answers")
struct EmailProviderClientTests {
    static func email(tags: [String: String] = ["herald_message": "msg_7", "herald_tenant": "maple"]) throws -> OutboundEmail {
        let message = EmailMessage(
            from: try EmailAddress("notices@maple.example", name: "Maple \"Court\""), to: [try EmailAddress("ann@example.com", name: "Ann")],
            replyTo: try EmailAddress("office@maple.example"), subject: "Boiler service on Tuesday",
            html: "<p>The <b>boiler</b> is serviced on Tuesday.</p>", text: nil, messageID: "msg_7.ev_1@maple.example",
            extraHeaders: [EmailHeader(name: "X-Herald-Message", value: "msg_7"), EmailHeader(name: "Auto-Submitted", value: "auto-generated")],
            attachments: [EmailAttachment(filename: "rota.pdf", contentType: "application/pdf", content: Data([0x25, 0x50, 0x44, 0x46, 0x00, 0xFF]))])
        let bytes = try MIMEEncoder.encode(message)
        return OutboundEmail(
            sender: "bounces@maple.example", recipient: "ann@example.com", messageID: message.messageID, bytes: bytes, message: message, tags: tags)
    }

    static func json(_ request: ProviderRequest) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
    }

    static func answer(_ status: Int, _ body: String = "", headers: [(String, String)] = []) -> OutboundHTTPAnswer {
        OutboundHTTPAnswer(status: status, headers: headers, body: body)
    }

    @Test("Signature Version 4 matches botocore's for the same request, key and time")
    func signatureVersion4() throws {
        // Computed with botocore.auth.SigV4Auth (service ses, region eu-west-1) for this exact request at 2026-12-05T08:30:00Z.
        let url = try #require(URL(string: "http://127.0.0.1:8443/v2/email/outbound-emails?b=2&a=1"))
        let signer = AWSSignatureV4(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", region: "eu-west-1", service: "ses")
        let date = try #require(ISO8601DateFormatter().date(from: "2026-12-05T08:30:00Z"))
        let headers = signer.sign(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: Array(#"{"x":1}"#.utf8), date: date)
        #expect(headers.first { $0.0 == "X-Amz-Date" }?.1 == "20261205T083000Z")
        #expect(
            headers.first { $0.0 == "Authorization" }?.1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261205/eu-west-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=f0d06877b5b30de976476ed761c276e360f02f7b83c8114fb481b2324aec011f"
        )
    }

    @Test("SES sends the raw MIME bytes, tagged with the message and tenant, to the region's endpoint")
    func sesRequest() throws {
        let email = try Self.email()
        let client = SESClient(configuration: SESConfiguration(region: "eu-west-1", accessKeyID: "AKID", secretAccessKey: "secret", configurationSet: "herald"))
        let request = try client.request(for: email, now: Date())
        #expect(request.url.absoluteString == "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails")
        let body = try Self.json(request)
        let raw = try #require(((body["Content"] as? [String: Any])?["Raw"] as? [String: Any])?["Data"] as? String)
        #expect(Data(base64Encoded: raw) == Data(email.bytes))
        #expect((body["Destination"] as? [String: Any])?["ToAddresses"] as? [String] == ["ann@example.com"])
        #expect(body["ConfigurationSetName"] as? String == "herald")
        let tags = try #require(body["EmailTags"] as? [[String: String]])
        #expect(tags == [["Name": "herald_message", "Value": "msg_7"], ["Name": "herald_tenant", "Value": "maple"]])
        #expect(request.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/") == true)
        // A tag value SES would refuse (a dot) is left out rather than failing the send.
        let odd = try client.request(for: try Self.email(tags: ["herald_message": "msg_7", "herald_tenant": "maple.court"]), now: Date())
        #expect((try Self.json(odd)["EmailTags"] as? [[String: String]])?.count == 1)
    }

    @Test("SendGrid gets the parts, Herald's headers and custom_args, with its own tracking off")
    func sendGridRequest() throws {
        let client = SendGridClient(configuration: SendGridConfiguration(apiKey: "SG.key", connection: EmailProviderConnection(endpoint: "http://127.0.0.1:9/")))
        let request = try client.request(for: try Self.email(), now: Date())
        #expect(request.url.absoluteString == "http://127.0.0.1:9/v3/mail/send")
        #expect(request.header("Authorization") == "Bearer SG.key")
        let body = try Self.json(request)
        let content = try #require(body["content"] as? [[String: String]])
        #expect(content.map { $0["type"] } == ["text/plain", "text/html"])
        #expect(content[0]["value"]?.contains("The boiler is serviced on Tuesday.") == true)
        #expect((body["from"] as? [String: String])?["name"] == "Maple \"Court\"")
        #expect((body["headers"] as? [String: String])?["X-Herald-Message"] == "msg_7")
        #expect(body["custom_args"] as? [String: String] == ["herald_message": "msg_7", "herald_tenant": "maple"])
        let tracking = try #require(body["tracking_settings"] as? [String: [String: Bool]])
        #expect(tracking["click_tracking"]?["enable"] == false && tracking["open_tracking"]?["enable"] == false)
        #expect(
            body["attachments"] as? [[String: String]]
                == [["content": "JVBERgD/", "filename": "rota.pdf", "type": "application/pdf", "disposition": "attachment"]])
    }

    @Test("Postmark gets the parts with quoted display names, Metadata and tracking off")
    func postmarkRequest() throws {
        let client = PostmarkClient(configuration: PostmarkConfiguration(serverToken: "pm-token", messageStream: "outbound"))
        let request = try client.request(for: try Self.email(), now: Date())
        #expect(request.url.absoluteString == "https://api.postmarkapp.com/email")
        #expect(request.header("X-Postmark-Server-Token") == "pm-token")
        let body = try Self.json(request)
        #expect(body["From"] as? String == #""Maple \"Court\"" <notices@maple.example>"#)
        #expect(body["To"] as? String == #""Ann" <ann@example.com>"#)
        #expect(body["Metadata"] as? [String: String] == ["herald_message": "msg_7", "herald_tenant": "maple"])
        #expect(body["TrackLinks"] as? String == "None" && body["TrackOpens"] as? Bool == false)
        #expect(body["MessageStream"] as? String == "outbound")
        #expect(body["Attachments"] as? [[String: String]] == [["Name": "rota.pdf", "Content": "JVBERgD/", "ContentType": "application/pdf"]])
    }

    @Test("Mailgun gets the MIME bytes as a form upload with v: variables and Basic auth")
    func mailgunRequest() throws {
        let email = try Self.email()
        let client = MailgunClient(configuration: MailgunConfiguration(apiKey: "key-1", domain: "mg.maple.example"))
        let request = try client.request(for: email, now: Date())
        #expect(request.url.absoluteString == "https://api.mailgun.net/v3/mg.maple.example/messages.mime")
        #expect(request.header("Authorization") == "Basic " + Data("api:key-1".utf8).base64EncodedString())
        let contentType = try #require(request.header("Content-Type"))
        let boundary = try #require(contentType.components(separatedBy: "boundary=").last)
        let body = String(decoding: request.body, as: UTF8.self)
        #expect(body.contains("name=\"v:herald_message\"\r\n\r\nmsg_7\r\n"))
        #expect(body.contains("name=\"to\"\r\n\r\nann@example.com\r\n"))
        #expect(body.contains(String(decoding: email.bytes, as: UTF8.self)))
        #expect(body.hasSuffix("--\(boundary)--\r\n"))
    }

    @Test("answers: taken, this email's refusal, and the provider's trouble (which fails over)")
    func answers() {
        let ses = SESClient(configuration: SESConfiguration(region: "eu-west-1", accessKeyID: "a", secretAccessKey: "b"))
        #expect(ses.outcome(for: Self.answer(200, #"{"MessageId":"0100-abc"}"#)) == .accepted("MessageId 0100-abc"))
        guard case .refused = ses.outcome(for: Self.answer(400, #"{"message":"Email address is not verified."}"#, headers: [("x-amzn-ErrorType", "MessageRejected:http://internal.amazon.com/")])) else {
            Issue.record("MessageRejected must be the email's refusal")
            return
        }
        guard case .unavailable(_, let retryAfter) = ses.outcome(for: Self.answer(429, "{}", headers: [("x-amzn-ErrorType", "TooManyRequestsException"), ("Retry-After", "3")])) else {
            Issue.record("throttling must fail over")
            return
        }
        #expect(retryAfter == 3)
        guard case .unavailable = ses.outcome(for: Self.answer(400, "{}", headers: [("x-amzn-ErrorType", "SendingPausedException")])) else {
            Issue.record("a paused account must fail over")
            return
        }
        let sendgrid = SendGridClient(configuration: SendGridConfiguration(apiKey: "k"))
        #expect(sendgrid.outcome(for: Self.answer(202, headers: [("X-Message-Id", "sg-1")])) == .accepted("X-Message-Id sg-1"))
        guard case .refused = sendgrid.outcome(for: Self.answer(400, #"{"errors":[{"message":"bad"}]}"#)) else {
            Issue.record("a 400 is the email's")
            return
        }
        guard case .unavailable = sendgrid.outcome(for: Self.answer(401, "{}")) else {
            Issue.record("refused credentials fail over")
            return
        }
        let postmark = PostmarkClient(configuration: PostmarkConfiguration(serverToken: "t"))
        #expect(postmark.outcome(for: Self.answer(200, #"{"ErrorCode":0,"Message":"OK","MessageID":"pm-1"}"#)) == .accepted("MessageID pm-1"))
        guard case .refused = postmark.outcome(for: Self.answer(422, #"{"ErrorCode":406,"Message":"inactive"}"#)) else {
            Issue.record("an inactive recipient is the email's")
            return
        }
        guard case .unavailable = postmark.outcome(for: Self.answer(422, #"{"ErrorCode":405,"Message":"out of credits"}"#)) else {
            Issue.record("an account out of credits fails over")
            return
        }
        let mailgun = MailgunClient(configuration: MailgunConfiguration(apiKey: "k", domain: "mg.example.com"))
        guard case .unavailable = mailgun.outcome(for: Self.answer(404, #"{"message":"Domain not found"}"#)) else {
            Issue.record("an unknown domain fails over")
            return
        }
        guard case .unavailable = mailgun.outcome(for: Self.answer(503, "")) else {
            Issue.record("a 503 fails over")
            return
        }
    }

    @Test("settings: a chain of links is checked per field, redacted, and secrets restored from what is stored")
    func settingsChain() throws {
        let text = #"""
            {"transports": [{"ses": {"region": "eu west", "access_key_id": "AKID", "secret_access_key": "s3cret"}},
                            {"sendgrid": {"api_key": "SG.x", "endpoint": "http://10.0.0.5"}},
                            {"mailgun": {"api_key": "k", "domain": "mg.example.com", "webhook_signing_key": "wk"}}]}
            """#
        let settings = try JSONDecoder().decode(EmailSettings.self, from: Data(text.utf8))
        let problems = settings.problems(policy: DestinationPolicy())
        #expect(problems.contains { $0.field == "transports[0].ses.region" })
        #expect(problems.contains { $0.field == "transports[1].sendgrid.endpoint" })
        #expect(!problems.contains { $0.field.hasPrefix("transports[2]") })
        let redacted = settings.redacted
        guard case .ses(let ses)? = redacted.transports?.first, case .mailgun(let mailgun)? = redacted.transports?.last else {
            Issue.record("the chain keeps its order")
            return
        }
        #expect(ses.secretAccessKey == "********" && mailgun.apiKey == "********" && mailgun.webhookSigningKey == "********")
        let restored = redacted.transports!.enumerated().map { $0.element.restoringSecrets(from: settings.chain[$0.offset]) }
        #expect(restored == settings.transports)
        // Unknown keys, two kinds in one link, and both forms at once are refused by name.
        #expect(throws: (any Error).self) {
            try JSONCoding.requestDecoder.decode(EmailSettings.self, from: Data(#"{"transports": [{"ses": {"region": "eu-west-1", "access_key_id": "a", "secret_access_key": "b", "sercet": 1}}]}"#.utf8))
        }
        #expect(throws: (any Error).self) {
            try JSONCoding.requestDecoder.decode(EmailSettings.self, from: Data(#"{"transports": [{"sendgrid": {"api_key": "a"}, "postmark": {"server_token": "b"}}]}"#.utf8))
        }
        let both = try JSONDecoder().decode(
            EmailSettings.self, from: Data(#"{"smtp": {"host": "mail.example.com"}, "transports": [{"sendgrid": {"api_key": "a"}}]}"#.utf8))
        #expect(both.problems(policy: DestinationPolicy()).contains { $0.field == "transports" })
    }

    @Test("herald.yml: email.transports is the server's chain, checked when the configuration is validated")
    func serverChainFromTheFile() throws {
        let folder = TestEngine.temporaryDirectory()
        let good = folder.appendingPathComponent("good.yml")
        try Data(
            """
            email:
              transports:
                - mailgun: {api_key: key-1, domain: mg.example.com, timeout_seconds: 5}
                - smtp: {host: relay.example.com, port: 2525}
            """.utf8
        ).write(to: good)
        let configuration = try HeraldConfiguration.load(file: good.path, environment: [:])
        try configuration.validate()
        guard case .mailgun(let mailgun)? = configuration.email.chain.first, case .smtp(let smtp)? = configuration.email.chain.last else {
            Issue.record("the chain is the file's, in order: \(configuration.email.chain)")
            return
        }
        #expect(mailgun.timeoutSeconds == 5 && smtp.port == 2525)
        let bad = folder.appendingPathComponent("bad.yml")
        try Data("email:\n  transports:\n    - ses: {region: eu-west-1, access_key_id: a, secret_access_key: b, timeout_seconds: 1e300}\n".utf8)
            .write(to: bad)
        #expect(throws: (any Error).self) { try HeraldConfiguration.load(file: bad.path, environment: [:]).validate() }
        let misspelt = folder.appendingPathComponent("misspelt.yml")
        try Data("email:\n  transports:\n    - sendgird: {api_key: a}\n".utf8).write(to: misspelt)
        #expect { try HeraldConfiguration.load(file: misspelt.path, environment: [:]) } throws: { "\($0)".contains("sendgird") }
    }

    @Test("a provider that cannot be reached defers its emails, and after repeated failures its circuit opens")
    func unreachableProviderOpensItsCircuit() async throws {
        // A loopback port nothing listens on: every connection is refused at once.
        let closed = try await SMTPTestServer.start()
        let port = closed.port
        closed.stop()
        let client = PostmarkClient(
            configuration: PostmarkConfiguration(serverToken: "t", connection: EmailProviderConnection(endpoint: "http://127.0.0.1:\(port)", timeoutSeconds: 5)))
        let circuits = CircuitBreakers(settings: CircuitBreaker.Settings(failureThreshold: 2, openSeconds: 60))
        let transport = ProviderTransport(
            client: client, http: OutboundHTTPClient(policy: DestinationPolicy(allowPrivateNetworks: true)), circuits: circuits, concurrency: 1)
        var details: [String] = []
        for _ in 0..<4 {
            guard case .deferred(let detail, let retryAfter) = await transport.send([try Self.email()]).first else {
                Issue.record("an unreachable provider defers: the next link takes the email, no attempt spent")
                return
            }
            #expect(retryAfter > 0)
            details.append(detail)
        }
        #expect(!details[0].contains("circuit open") && !details[1].contains("circuit open"), "\(details)")
        #expect(details[2].contains("circuit open") && details[3].contains("circuit open"), "\(details)")
    }
}
