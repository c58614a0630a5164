/// One way out for a channel: an SMS provider, a chat service's webhook, a webhook endpoint, an SMTP
/// server. ``FailoverDelivery`` tries a channel's providers in order, each behind its circuit breaker.
public protocol MessageProvider: Sendable {
    /// Names the provider in attempt details and logs (`twilio`, `slack`, `https://hooks.example.com`).
    var name: String { get }
    /// The circuit this provider shares with others that reach the same endpoint.
    var circuitKey: String { get }
    func send(_ outgoing: OutgoingMessage) async -> ProviderOutcome
}

/// What one provider made of one message. The distinction that matters for failover is whose fault a
/// failure is: the provider's (another provider may succeed) or the message's (none will).
public enum ProviderOutcome: Sendable, Hashable {
    /// The provider accepted it for delivery (an SMS API's 201, a chat webhook's 200).
    case accepted(detail: String?)
    /// The recipient's own system confirmed it (a webhook receiver's 2xx).
    case delivered(detail: String?)
    /// The provider is in trouble (timeout, refused connection, 5xx, 429). Counts against its circuit;
    /// the next provider is tried, and failing all, the message is retried with backoff.
    case unavailable(String)
    /// This provider will never take this message, but another might (bad credentials, a region or
    /// sender it does not serve). Does not count against the circuit.
    case providerRejected(String)
    /// No provider will ever take it (an invalid phone number, a 4xx about the payload).
    case rejected(String)
}
