import Foundation

/// How one provider's HTTP API takes an email, and what its answers mean. A client is a plain value built from a
/// configuration: it writes requests and reads answers, and ``ProviderTransport`` does the sending, the circuit
/// breaker and the failover outcomes, the same for every provider.
public protocol EmailProviderClient: Sendable {
    /// `sendgrid https://api.sendgrid.com`: names the transport in logs, attempt details and circuit states.
    var name: String { get }
    /// Seconds one request may take.
    var timeoutSeconds: Double { get }
    /// Extra PEM certificates to trust for this API.
    var trustedCertificatesPEM: String? { get }
    /// The request that sends `email`, or an error saying why this email cannot go through this provider (which
    /// is a permanent failure of the email, not of the provider).
    func request(for email: OutboundEmail, now: Date) throws -> ProviderRequest
    /// What an answer means for the email.
    func outcome(for answer: OutboundHTTPAnswer) -> ProviderAnswer
}

/// What a provider's answer says, in the terms of a failover chain.
public enum ProviderAnswer: Sendable, Hashable {
    /// Taken; the detail names the provider's id for it.
    case accepted(String)
    /// This email was refused and would be refused again (a bad address, a rejected message).
    case refused(String)
    /// This email could not be taken now and might be later; the provider itself works (it is not counted against
    /// the provider's circuit).
    case retry(String, retryAfter: Double?)
    /// The provider cannot take email now (down, overloaded, rate-limited, credentials refused): the next link of
    /// the chain should, without spending one of the email's attempts. Counted against the provider's circuit.
    case unavailable(String, retryAfter: Double?)
}

extension EmailProviderClient {
    /// The `Retry-After` header in seconds, when it is a number a provider would send (0 to one day).
    static func retryAfter(_ answer: OutboundHTTPAnswer) -> Double? {
        guard let text = answer.headers.first(where: { $0.0.lowercased() == "retry-after" })?.1,
            let seconds = Double(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0, seconds <= 86_400
        else { return nil }
        return seconds
    }

    /// The meaning most providers give their status codes: 2xx taken; 401/403 credentials (the provider is unusable
    /// until someone fixes them); 408, 429 and 5xx the provider's trouble; any other 4xx this email's.
    static func standardOutcome(_ answer: OutboundHTTPAnswer, accepted: (OutboundHTTPAnswer) -> String) -> ProviderAnswer {
        let detail = "HTTP \(answer.status): \(answer.body.prefix(300))"
        switch answer.status {
        case 200..<300: return .accepted(accepted(answer))
        case 401, 403: return .unavailable("credentials refused, \(detail)", retryAfter: nil)
        case 408, 429: return .unavailable(detail, retryAfter: retryAfter(answer))
        case 500...: return .unavailable(detail, retryAfter: retryAfter(answer))
        default: return .refused(detail)
        }
    }
}

extension ProviderAnswer {
    /// The same meaning with `detail` in place of the original words (accepted answers keep theirs).
    func withDetail(_ detail: String) -> ProviderAnswer {
        switch self {
        case .accepted: self
        case .refused: .refused(detail)
        case .retry(_, let retryAfter): .retry(detail, retryAfter: retryAfter)
        case .unavailable(_, let retryAfter): .unavailable(detail, retryAfter: retryAfter)
        }
    }
}
