import Foundation
import Herald
import Testing

/// The Twilio request and the meaning of its answers, without I/O.
@Suite("Twilio provider")
struct TwilioProviderTests {
    static let account = SMSProviderConfiguration.twilio(
        accountSID: "AC" + String(repeating: "0f", count: 16), authToken: "s3cret", from: "+15017122661", baseURL: "https://api.example.test/")

    @Test func theRequestIsAFormPostWithBasicAuth() throws {
        let provider = try #require(TwilioProvider(Self.account, http: OutboundHTTPClient()))
        let request = provider.request(to: "+447700900123", body: "Ana & Ben: 10€ = 100%?")
        #expect(request.url.absoluteString == "https://api.example.test/2010-04-01/Accounts/\(Self.account.accountSID!)/Messages.json")
        let headers = Dictionary(request.headers, uniquingKeysWith: { first, _ in first })
        #expect(headers["Content-Type"] == "application/x-www-form-urlencoded")
        #expect(headers["Authorization"] == "Basic " + Data("\(Self.account.accountSID!):s3cret".utf8).base64EncodedString())
        #expect(
            String(decoding: request.body, as: UTF8.self)
                == "To=%2B447700900123&From=%2B15017122661&Body=Ana%20%26%20Ben%3A%2010%E2%82%AC%20%3D%20100%25%3F")
    }

    @Test func aMessagingServiceReplacesFrom() throws {
        var configuration = Self.account
        configuration.from = nil
        configuration.messagingServiceSID = "MG" + String(repeating: "ab", count: 16)
        let provider = try #require(TwilioProvider(configuration, http: OutboundHTTPClient()))
        let body = String(decoding: provider.request(to: "+447700900123", body: "hi").body, as: UTF8.self)
        #expect(body == "To=%2B447700900123&MessagingServiceSid=\(configuration.messagingServiceSID!)&Body=hi")
    }

    static func error(_ status: Int, _ code: Int, _ message: String) -> OutboundHTTPAnswer {
        OutboundHTTPAnswer(
            status: status, headers: [],
            body: #"{"code": \#(code), "message": "\#(message)", "more_info": "https://www.twilio.com/docs/errors/\#(code)", "status": \#(status)}"#)
    }

    @Test func answersMapToWhoseFaultItIs() {
        let created = OutboundHTTPAnswer(
            status: 201, headers: [], body: #"{"sid": "SM0123", "status": "queued", "num_segments": "2", "to": "+447700900123"}"#)
        #expect(TwilioProvider.outcome(for: created) == .accepted(detail: "SM0123 queued (Twilio counts 2 segments)"))
        #expect(
            TwilioProvider.outcome(for: Self.error(400, 21211, "Invalid 'To' Phone Number"))
                == .rejected("HTTP 400, Twilio error 21211: Invalid 'To' Phone Number (https://www.twilio.com/docs/errors/21211)"))
        #expect(TwilioProvider.outcome(for: Self.error(400, 21610, "Attempt to send to unsubscribed recipient")).isRejected)
        #expect(TwilioProvider.outcome(for: Self.error(401, 20003, "Authenticate")).isProviderRejected)
        #expect(
            TwilioProvider.outcome(for: Self.error(400, 21408, "Permission to send an SMS has not been enabled for the region")).isProviderRejected)
        #expect(TwilioProvider.outcome(for: Self.error(400, 21606, "The From phone number is not a valid, SMS-capable number")).isProviderRejected)
        #expect(TwilioProvider.outcome(for: Self.error(404, 20404, "The requested resource was not found")).isProviderRejected)
        #expect(TwilioProvider.outcome(for: Self.error(429, 20429, "Too Many Requests")).isUnavailable)
        #expect(TwilioProvider.outcome(for: Self.error(500, 20500, "Internal Server Error")).isUnavailable)
        #expect(TwilioProvider.outcome(for: OutboundHTTPAnswer(status: 503, headers: [], body: "<html>down</html>")).isUnavailable)
        #expect(TwilioProvider.outcome(for: Self.error(400, 21999, "Something new")).isRejected, "an unknown 400 is about the request")
    }

    @Test func theJSONGatewayMapsAnswersTheSameWay() {
        #expect(
            JSONSMSProvider.outcome(for: OutboundHTTPAnswer(status: 202, headers: [], body: #"{"id":"m1"}"#))
                == .accepted(detail: #"HTTP 202: {"id":"m1"}"#))
        #expect(JSONSMSProvider.outcome(for: OutboundHTTPAnswer(status: 422, headers: [], body: "bad number")).isRejected)
        #expect(JSONSMSProvider.outcome(for: OutboundHTTPAnswer(status: 401, headers: [], body: "")).isProviderRejected)
        #expect(JSONSMSProvider.outcome(for: OutboundHTTPAnswer(status: 503, headers: [], body: "")).isUnavailable)
    }

    @Test func settingsNameEachBadField() {
        let settings = SMSSettings(
            providers: [
                .twilio(accountSID: "AC123", authToken: "", from: "+0123"),
                SMSProviderConfiguration(type: .json, accountSID: "AC1", url: "ftp://x", authHeader: "Bad Header"),
            ], maxSegments: 40)
        let fields = Set(settings.problems().map(\.field))
        #expect(
            fields == [
                "providers[0].account_sid", "providers[0].auth_token", "providers[0].from", "providers[1].url", "providers[1].auth_header",
                "providers[1].auth_value", "providers[1].account_sid", "max_segments",
            ])
        #expect(SMSSettings(providers: [Self.account]).problems().isEmpty)
        #expect(SMSSettings(providers: [.json(url: "https://sms.example.net/send", from: "Herald")]).problems().isEmpty)
    }
}

extension ProviderOutcome {
    var isRejected: Bool {
        if case .rejected = self { return true }
        return false
    }

    var isUnavailable: Bool {
        if case .unavailable = self { return true }
        return false
    }
}
