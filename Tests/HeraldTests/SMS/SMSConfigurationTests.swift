import Foundation
import Herald
import Testing

/// The server's SMS defaults from herald.yml and `HERALD_SMS_*`, and the refusal to start on bad ones.
@Suite("SMS server configuration")
struct SMSConfigurationTests {
    static func file(_ yaml: String) throws -> String {
        let path = TestEngine.temporaryDirectory().appendingPathComponent("herald.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theFileNamesProvidersInFailoverOrder() throws {
        let path = try Self.file(
            """
            sms:
              max_segments: 4
              providers:
                - type: twilio
                  account_sid: AC0123456789abcdef0123456789abcdef
                  auth_token: t0ken
                  messaging_service_sid: MG0123456789abcdef0123456789abcdef
                - type: json
                  url: https://sms.example.net/v1/messages
                  auth_header: X-Api-Key
                  auth_value: k3y
            """)
        let configuration = try HeraldConfiguration.load(file: path, environment: [:])
        try configuration.validate()
        #expect(configuration.sms.maxSegments == 4)
        #expect(configuration.sms.providers.map(\.type) == [.twilio, .json])
        #expect(configuration.sms.providers[0].messagingServiceSID == "MG0123456789abcdef0123456789abcdef")
        #expect(configuration.sms.providers[1].authValue == "k3y")

        // The environment replaces the file's providers, Twilio first.
        let overridden = try HeraldConfiguration.load(
            file: path,
            environment: [
                "HERALD_SMS_JSON_URL": "https://gw.example.net/send", "HERALD_SMS_TWILIO_ACCOUNT_SID": "AC" + String(repeating: "1", count: 32),
                "HERALD_SMS_TWILIO_AUTH_TOKEN": "x", "HERALD_SMS_TWILIO_FROM": "+15017122661",
            ])
        #expect(overridden.sms.providers.map(\.type) == [.twilio, .json])
        #expect(overridden.sms.providers.map { $0.endpoint?.host } == ["api.twilio.com", "gw.example.net"])
        #expect(overridden.sms.maxSegments == 4)
    }

    @Test func badDefaultsStopTheServerNamingTheField() throws {
        let path = try Self.file(
            """
            sms:
              max_segments: 12
              providers:
                - type: twilio
                  account_sid: AC1
                  from: "07700 900123"
            """)
        let configuration = try HeraldConfiguration.load(file: path, environment: [:])
        let error = try #require(throws: ConfigurationError.self) { try configuration.validate() }
        for field in ["sms.providers[0].account_sid", "sms.providers[0].auth_token", "sms.providers[0].from", "sms.max_segments"] {
            #expect(error.description.contains(field), "\(error)")
        }
        #expect(throws: ConfigurationError.self) { try HeraldConfiguration.load(file: nil, environment: ["HERALD_SMS_MAX_SEGMENTS": "ten"]) }
        let unknownType = try Self.file("sms:\n  providers:\n    - type: nexmo\n")
        let thrown = try #require(throws: ConfigurationError.self) { try HeraldConfiguration.load(file: unknownType, environment: [:]) }
        #expect(thrown.description.contains("sms.providers[0].type"), "\(thrown)")
    }
}
