import Foundation
import Herald
import Testing

/// Standard Webhooks signatures and secrets, checked against the specification's own example.
@Suite("Standard Webhooks signing")
struct WebhookSignerTests {
    @Test func theSignatureMatchesTheSpecificationsExample() throws {
        // From the Standard Webhooks specification and its reference libraries.
        let secret = try #require(WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signature = WebhookSigner.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8), secrets: [secret])
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func severalSecretsGiveSeveralSignaturesInOrder() throws {
        let first = try #require(WebhookSecret(WebhookFixtures.secret))
        let second = try #require(WebhookSecret(WebhookFixtures.otherSecret))
        let body = Array("{}".utf8)
        let both = WebhookSigner.signature(id: "msg_1", timestamp: 1, body: body, secrets: [first, second])
        let parts = both.split(separator: " ").map(String.init)
        #expect(parts.count == 2 && parts.allSatisfy { $0.hasPrefix("v1,") })
        #expect(parts[0] == WebhookSigner.signature(id: "msg_1", timestamp: 1, body: body, secrets: [first]))
        #expect(parts[1] == WebhookSigner.signature(id: "msg_1", timestamp: 1, body: body, secrets: [second]))
        let headers = Dictionary(
            uniqueKeysWithValues: WebhookSigner.headers(id: "msg_1", timestamp: Date(timeIntervalSince1970: 1.9), body: body, secrets: [first]))
        #expect(headers["webhook-timestamp"] == "1" && headers["webhook-id"] == "msg_1" && headers["Content-Type"] == "application/json")
    }

    @Test func secretsAreGeneratedCheckedAndRedacted() throws {
        let generated = WebhookSecret.generate()
        #expect(generated.text.hasPrefix("whsec_") && generated.key.count == 32)
        #expect(WebhookSecret.generate() != generated)
        #expect(WebhookSecret(generated.text) == generated)
        #expect(generated.redacted == String(generated.text.prefix(12)) + "********" && WebhookSecret.isRedacted(generated.redacted))
        #expect("\(generated)" == generated.redacted, "printing a secret never shows it")
        #expect(WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?.key.count == 24)
        #expect(WebhookSecret.problem(in: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?.contains("whsec_") == true)
        #expect(WebhookSecret.problem(in: "whsec_!!!") == "must be whsec_ followed by base64")
        #expect(WebhookSecret.problem(in: "whsec_c2hvcnQ=")?.contains("not 5") == true)
        // Unpadded base64 is accepted, as the reference libraries accept it.
        let unpadded = "whsec_" + Data(repeating: 7, count: 25).base64EncodedString().replacingOccurrences(of: "=", with: "")
        #expect(WebhookSecret(unpadded)?.key == Array(repeating: 7, count: 25))
    }
}
