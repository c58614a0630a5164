import Foundation

extension WebhookSettings {
    /// Most endpoints a list may hold, and most secrets an endpoint may carry (each adds a signature to every request).
    public static let maximumEndpoints = 10
    public static let maximumSecrets = 5

    /// Every problem with these settings as sent to `PUT /v1/settings/webhook`, named by field, so one
    /// answer lists them all. Redacted secrets pass here; ``resolvingSecrets(stored:)`` matches them.
    public func problems() -> [FieldError] {
        var problems: [FieldError] = []
        problems += Self.problems(endpoints, field: "endpoints", status: false)
        problems += Self.problems(statusEndpoints, field: "status_endpoints", status: true)
        problems += Self.secretProblems(subscriberSecrets, field: "subscriber_secrets")
        return problems
    }

    private static func problems(_ list: [WebhookEndpoint], field: String, status: Bool) -> [FieldError] {
        var problems: [FieldError] = []
        if list.count > maximumEndpoints { problems.append(FieldError(field, "must hold at most \(maximumEndpoints) endpoints")) }
        var seen: Set<String> = []
        for (index, endpoint) in list.enumerated() {
            let path = "\(field)[\(index)]"
            if let problem = DestinationPolicy.syntaxProblem(endpoint.url) {
                problems.append(FieldError("\(path).url", problem))
            } else if !seen.insert(endpoint.url).inserted {
                problems.append(FieldError("\(path).url", "appears twice in \(field)"))
            }
            problems += secretProblems(endpoint.secrets, field: "\(path).secrets")
            if status {
                let events = endpoint.events ?? []
                if events.isEmpty {
                    let names = DeliveryStatusEvent.allCases.map(\.rawValue).joined(separator: ", ")
                    problems.append(FieldError("\(path).events", "must name at least one of \(names)"))
                } else if Set(events).count != events.count {
                    problems.append(FieldError("\(path).events", "must not name an event twice"))
                }
            } else if endpoint.events != nil {
                problems.append(FieldError("\(path).events", "is for status_endpoints; webhook-channel endpoints get every message"))
            }
            if let reason = endpoint.disabledReason, reason.count > 500 {
                problems.append(FieldError("\(path).disabled_reason", "must be at most 500 characters"))
            }
        }
        return problems
    }

    private static func secretProblems(_ secrets: [String], field: String) -> [FieldError] {
        var problems: [FieldError] = []
        if secrets.count > maximumSecrets {
            problems.append(FieldError(field, "must hold at most \(maximumSecrets) secrets (one signature each on every request)"))
        }
        for (index, secret) in secrets.enumerated() where !WebhookSecret.isRedacted(secret) {
            if let problem = WebhookSecret.problem(in: secret) { problems.append(FieldError("\(field)[\(index)]", problem)) }
        }
        if Set(secrets).count != secrets.count { problems.append(FieldError(field, "must not hold the same secret twice")) }
        return problems
    }

    /// These settings with every secret made whole against what is stored, and the secrets that may be
    /// shown in full in the answer (those given in full, and those generated now).
    ///
    /// - An endpoint without secrets keeps the stored secrets of the same URL, or gets a new one.
    /// - A redacted secret (`whsec_AbCdEf********`) is replaced by the stored secret it stands for.
    /// - `subscriber_secrets` left empty keeps the stored ones, or gets a new one.
    ///
    /// Throws `invalid` naming a redacted secret that matches nothing stored.
    public func resolvingSecrets(stored: WebhookSettings) throws -> (settings: WebhookSettings, revealed: Set<String>) {
        var revealed: Set<String> = []
        var problems: [FieldError] = []
        let everyStored = stored.subscriberSecrets + (stored.endpoints + stored.statusEndpoints).flatMap(\.secrets)

        func resolve(_ secrets: [String], kept: [String], field: String) -> [String] {
            if secrets.isEmpty {
                if !kept.isEmpty { return kept }
                let generated = WebhookSecret.generate().text
                revealed.insert(generated)
                return [generated]
            }
            var resolved: [String] = []
            for (index, secret) in secrets.enumerated() {
                if WebhookSecret.isRedacted(secret) {
                    // The same URL's secrets first, then any of the tenant's (a secret moved to another endpoint).
                    if let match = (kept + everyStored).first(where: { WebhookSecret.redact($0) == secret }) {
                        resolved.append(match)
                    } else {
                        problems.append(FieldError("\(field)[\(index)]", "is redacted and matches no stored secret; send the whole secret"))
                    }
                } else {
                    resolved.append(secret)
                    revealed.insert(secret)
                }
            }
            return resolved
        }

        var settings = self
        for index in settings.endpoints.indices {
            let kept = stored.endpoints.first { $0.url == endpoints[index].url }?.secrets ?? []
            settings.endpoints[index].secrets = resolve(endpoints[index].secrets, kept: kept, field: "endpoints[\(index)].secrets")
        }
        for index in settings.statusEndpoints.indices {
            let kept = stored.statusEndpoints.first { $0.url == statusEndpoints[index].url }?.secrets ?? []
            settings.statusEndpoints[index].secrets = resolve(
                statusEndpoints[index].secrets, kept: kept, field: "status_endpoints[\(index)].secrets")
        }
        settings.subscriberSecrets = resolve(subscriberSecrets, kept: stored.subscriberSecrets, field: "subscriber_secrets")
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        return (settings, revealed)
    }
}
