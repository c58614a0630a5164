import Foundation

/// Checks subscriber fields as they arrive (by upsert or inline in a trigger), so bad addresses are
/// refused with a reason instead of failing later at delivery.
public enum SubscriberValidator {
    /// Every problem with `input`, named by field. `policy` judges `data.webhook_url` and `data.chat_webhook_url`
    /// as the destination policy will when sending (a private address in any numeric form is refused now).
    public static func problems(_ input: SubscriberInput, policy: DestinationPolicy) -> [FieldError] {
        var errors: [FieldError] = []
        if input.id.isEmpty || input.id.count > 256 || input.id.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) {
            errors.append(FieldError("id", "must be 1 to 256 characters with no control characters"))
        }
        if let email = input.email, !isValidEmail(email) {
            errors.append(FieldError("email", "'\(email)' is not a valid email address"))
        }
        if let phone = input.phone, let problem = PhoneNumber.problem(in: phone) {
            errors.append(FieldError("phone", problem))
        }
        if let locale = input.locale, !isValidLocale(locale) {
            errors.append(FieldError("locale", "must be a BCP 47 language tag such as en or fr-CA"))
        }
        if let timezone = input.timezone, TimeZone(identifier: timezone) == nil || !timezone.contains("/") && timezone != "UTC" {
            errors.append(FieldError("timezone", "'\(timezone)' is not an IANA time zone such as Europe/London"))
        }
        if case .some(.some(let quietHours)) = input.quietHours {
            errors += quietHours.problems()
        }
        // The name is the display name of every email's To header: refused now by the rule the encoder applies then
        // (a line break, NUL or other control character), rather than stored, truncated or failing every email.
        if let name = input.name, let reason = EmailHeader.problem(in: name) { errors.append(FieldError("name", reason)) }
        if let data = input.data { errors += chatProblems(data, policy: policy) + webhookProblems(data, policy: policy) }
        return errors
    }

    /// `data.webhook_url`, which the webhook channel posts to.
    static func webhookProblems(_ data: [String: JSONValue], policy: DestinationPolicy) -> [FieldError] {
        guard let url = data[Subscriber.webhookURLKey], url != .null else { return [] }
        let problem: String? = if let text = url.stringValue { policy.problem(forURL: text) } else { "must be a string" }
        return problem.map { [FieldError("data.\(Subscriber.webhookURLKey)", $0)] } ?? []
    }

    /// `data.chat_webhook_url` and `data.chat_provider`, which the chat channel posts to: checked here so
    /// a typo is a 422 now rather than a failed message later.
    static func chatProblems(_ data: [String: JSONValue], policy: DestinationPolicy) -> [FieldError] {
        var errors: [FieldError] = []
        let provider = data["chat_provider"]
        if let provider, provider != .null {
            if provider.stringValue.flatMap({ ChatService(rawValue: $0.lowercased()) }) == nil {
                errors.append(FieldError("data.chat_provider", "must be one of slack, teams, discord"))
            }
        }
        guard let url = data["chat_webhook_url"], url != .null else { return errors }
        guard let text = url.stringValue else { return errors + [FieldError("data.chat_webhook_url", "must be a string")] }
        if let problem = policy.problem(forURL: text) { return errors + [FieldError("data.chat_webhook_url", problem)] }
        if provider == nil || provider == .null, URL(string: text).flatMap(ChatService.inferred(from:)) == nil {
            errors.append(FieldError("data.chat_provider", "is required when data.chat_webhook_url is not on a known chat service's host"))
        }
        return errors
    }

    /// Whether an address can be mailed: one `@`, a dotted domain, ASCII, no spaces or line breaks (which
    /// would also allow header injection). The same check the email channel applies when it sends.
    public static func isValidEmail(_ email: String) -> Bool {
        EmailAddress.problem(in: email) == nil && email.split(separator: "@").last?.contains(".") == true
    }

    public static func isValidPhone(_ phone: String) -> Bool { PhoneNumber.isValid(phone) }

    public static func isValidLocale(_ locale: String) -> Bool {
        let parts = locale.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count), language.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            return false
        }
        return parts.dropFirst().allSatisfy { (2...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }
}
