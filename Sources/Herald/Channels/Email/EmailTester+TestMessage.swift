import Foundation
import Mustache

extension EmailTester {
    /// The email `herald email test` sends: a short note naming the host it came from, so whoever reads it knows
    /// which installation's settings work. Its HTML is `Resources/email/test-email.mustache`, the host escaped.
    ///
    /// `POST /v1/event-types/{key}/test` sends an event type's own email instead (``HeraldEngine/sendTestEmail``).
    public static func testMessage(from: EmailAddress, to: EmailAddress, host: String, date: Date = Date()) -> EmailMessage {
        EmailMessage(
            from: from, to: [to], subject: "Herald test email from \(host)", html: testEmailTemplate.render(["host": host]),
            messageID: EmailMessage.makeMessageID(
                messageKey: "test_\(Int(date.timeIntervalSince1970))", eventID: "cli",
                domain: String(from.address.split(separator: "@").last ?? "localhost")),
            date: date)
    }

    /// `Resources/email/test-email.mustache`, parsed once.
    private static let testEmailTemplate = BuiltInTemplates.html("email/test-email.mustache")
}
