import Foundation

extension ChatSettings {
    /// Every problem with these settings, named by field, so `PUT /v1/settings/chat` can answer all at once.
    public func problems() -> [FieldError] {
        var problems: [FieldError] = []
        if webhooks.count > Self.maximumWebhooks {
            problems.append(FieldError("webhooks", "may list at most \(Self.maximumWebhooks) webhooks"))
        }
        for (index, webhook) in webhooks.enumerated() {
            problems += webhook.problems().prefixed("webhooks[\(index)]")
        }
        return problems
    }
}

extension ChatWebhook {
    /// Problems with one webhook; fields are relative (`url`, `provider`).
    public func problems() -> [FieldError] {
        if isRedacted {
            return [FieldError("url", "is redacted and matches no stored webhook; send the full webhook URL")]
        }
        if let problem = DestinationPolicy.syntaxProblem(url) { return [FieldError("url", problem)] }
        var problems: [FieldError] = []
        let inferred = URL(string: url).flatMap(ChatService.inferred(from:))
        switch (provider, inferred) {
        case (nil, nil):
            problems.append(FieldError("provider", "is required when the URL's host is not a known chat service; use slack, teams or discord"))
        case (let named?, let host?) where named != host:
            problems.append(FieldError("provider", "is \(named.rawValue), but the URL is a \(host.rawValue) webhook"))
        default:
            break
        }
        if let name, name.isEmpty || name.count > 100 || name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            problems.append(FieldError("name", "must be 1 to 100 characters on one line"))
        }
        return problems
    }
}

extension ChatSettings {
    /// The webhooks' hosts as the destination policy judges them without DNS (a private or loopback address in any
    /// numeric form is refused at once; a name is judged when sending). Shape is ``problems()``'s concern.
    public func destinationProblems(policy: DestinationPolicy) -> [FieldError] {
        webhooks.enumerated().compactMap { index, webhook in
            guard !webhook.isRedacted, DestinationPolicy.syntaxProblem(webhook.url) == nil, let reason = policy.problem(forURL: webhook.url)
            else { return nil }
            return FieldError("webhooks[\(index)].url", reason)
        }
    }
}
