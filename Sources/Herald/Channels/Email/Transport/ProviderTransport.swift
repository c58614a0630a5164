import Foundation

/// Sends email through a provider's HTTP API (SES, SendGrid, Postmark, Mailgun): the ``EmailProviderClient``
/// writes each request and reads each answer; this sends them a few at a time, most urgent first, behind the
/// provider's circuit breaker, and turns answers into the outcomes a failover chain acts on.
///
/// An email the provider could not take because of the provider (down, 5xx, rate-limited, credentials refused,
/// its circuit open) is `deferred`: the next link of the chain takes it, or it waits without spending an attempt.
/// An email the provider refused for itself is a permanent failure, and a request that timed out after it was
/// sent is a transient one (it may have been taken, so it is not handed to another provider at once).
public struct ProviderTransport: EmailTransport {
    public let client: any EmailProviderClient
    /// The HTTP client: the tenant's destination policy for a tenant's configuration, the operator's for the
    /// server's own.
    let http: OutboundHTTPClient
    let circuits: CircuitBreakers
    /// Requests in flight at once for one batch.
    let concurrency: Int

    public init(client: any EmailProviderClient, http: OutboundHTTPClient, circuits: CircuitBreakers, concurrency: Int = 16) {
        self.client = client
        var http = http
        http.trustedCertificatesPEM = client.trustedCertificatesPEM
        self.http = http
        self.circuits = circuits
        self.concurrency = max(1, concurrency)
    }

    public var name: String { client.name }

    /// The circuit breaker's key: one per provider endpoint and credentials' owner, shared by every batch.
    var circuitKey: String { "email \(client.name)" }

    /// How long an unavailable provider is left alone when it gave no `Retry-After`.
    static let defaultDeferSeconds = 30.0

    public func send(_ emails: [OutboundEmail]) async -> [EmailSendOutcome] {
        var outcomes = [EmailSendOutcome](repeating: .transientFailure("not sent"), count: emails.count)
        // Most urgent first: a critical email in a bulk batch is among the first requests, not the last.
        let order = emails.indices.sorted { (emails[$0].priority.rank, $0) < (emails[$1].priority.rank, $1) }
        await withTaskGroup(of: (Int, EmailSendOutcome).self) { group in
            var next = 0
            while next < min(concurrency, order.count) {
                let index = order[next]
                group.addTask { (index, await self.sendOne(emails[index])) }
                next += 1
            }
            for await (index, outcome) in group {
                outcomes[index] = outcome
                if next < order.count {
                    let index = order[next]
                    group.addTask { (index, await self.sendOne(emails[index])) }
                    next += 1
                }
            }
        }
        return outcomes
    }

    func sendOne(_ email: OutboundEmail) async -> EmailSendOutcome {
        if case .rejected(let retryAfter) = circuits.permit(circuitKey) {
            return .deferred("\(name): circuit open after repeated failures", retryAfter: retryAfter)
        }
        let request: ProviderRequest
        do {
            request = try client.request(for: email, now: Date())
        } catch {
            // Not the provider's fault: report success so a probe does not hold the circuit half-open.
            circuits.recordSuccess(circuitKey)
            return .permanentFailure("\(name): cannot write the request: \(error)")
        }
        let result = await http.send(
            request.method, to: request.url, headers: request.headers, body: request.body, timeoutSeconds: client.timeoutSeconds,
            priority: email.priority)
        switch result {
        case .refused(let reason):
            _ = circuits.recordFailure(circuitKey)
            return .deferred("\(name): destination refused: \(reason)", retryAfter: Self.defaultDeferSeconds)
        case .failed(let reason):
            _ = circuits.recordFailure(circuitKey)
            // Sent but unanswered: the provider may have taken it, so it is retried here later rather than handed on.
            if reason.hasPrefix("no answer within") { return .transientFailure("\(name): \(reason)") }
            return .deferred("\(name): \(reason)", retryAfter: Self.defaultDeferSeconds)
        case .answered(let answer):
            switch client.outcome(for: answer) {
            case .accepted(let detail):
                circuits.recordSuccess(circuitKey)
                return .accepted("\(name): \(detail)")
            case .refused(let detail):
                circuits.recordSuccess(circuitKey)
                return .permanentFailure("\(name): \(detail)")
            case .retry(let detail, _):
                circuits.recordSuccess(circuitKey)
                return .transientFailure("\(name): \(detail)")
            case .unavailable(let detail, let retryAfter):
                _ = circuits.recordFailure(circuitKey)
                return .deferred("\(name): \(detail)", retryAfter: retryAfter ?? Self.defaultDeferSeconds)
            }
        }
    }
}
