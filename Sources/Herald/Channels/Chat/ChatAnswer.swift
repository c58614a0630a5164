/// How the chat services' webhook answers map to what failover needs to know. Slack, Teams and
/// Discord agree on the broad lines:
///
/// - 2xx: accepted (Slack answers `200 ok`, Teams `202`, Discord `204`);
/// - 429, 5xx, 408: the service is busy or down, so the next webhook is tried and the message retried;
/// - 404, 410: the webhook was deleted (Slack `no_service`, `channel_is_archived`; Discord `Unknown Webhook`);
///   401, 403: it is no longer allowed to post. Another webhook may still work, but this one never will;
/// - any other 4xx (a 400 `invalid_payload`, say): the message itself is refused, and no webhook will take it.
enum ChatAnswer {
    static func outcome(for answer: OutboundHTTPAnswer, retryAfter: Double?) -> ProviderOutcome {
        switch answer.status {
        case 200..<300:
            return .accepted(detail: answer.summary)
        case 429:
            let wait = retryAfter.map { ", retry after \(OutboundHTTPClient.seconds($0)) s" } ?? ""
            return .unavailable("rate limited\(wait) (\(answer.summary))")
        case 408, 500..<600:
            return .unavailable(answer.summary)
        case 404, 410:
            return .providerRejected("the webhook no longer exists (\(answer.summary))")
        case 401, 403:
            return .providerRejected("the webhook may not post (\(answer.summary))")
        case 300..<400:
            return .providerRejected("the webhook redirects, and redirects are not followed (\(answer.summary))")
        default:
            return .rejected("the service refused the message (\(answer.summary))")
        }
    }
}
