import Foundation

/// One webhook URL as a ``MessageProvider``, so ``FailoverDelivery`` can put it behind its circuit breaker
/// and move on to the next endpoint when it is down.
///
/// The body is built once per message and shared by every endpoint it may be tried at; the
/// `webhook-id` is the message id, the same on every retry and at every endpoint, so a receiver that
/// sees a message twice (say, from the primary after a timeout and then from the secondary) can tell.
struct WebhookEndpointProvider: MessageProvider {
    let url: String
    /// ``WebhookCircuit/endpoint(_:)`` for a tenant's endpoint, ``WebhookCircuit/subscriberHost(_:)`` for a subscriber's URL.
    let circuitKey: String
    let secrets: [WebhookSecret]
    let body: [UInt8]
    let client: OutboundHTTPClient
    /// Called when the endpoint answers `410 Gone`, before the outcome is reported.
    let disable: @Sendable (_ url: String, _ reason: String) async -> Void

    var name: String { url }

    func send(_ outgoing: OutgoingMessage) async -> ProviderOutcome {
        let id = Message.publicID(outgoing.message.rowID)
        switch await WebhookPost.send(body, id: id, to: url, secrets: secrets, client: client, priority: outgoing.message.priority) {
        case .delivered(let detail):
            return .delivered(detail: detail)
        case .gone(let detail):
            await disable(url, "\(detail) at \(Timestamp.format(Date()))")
            return .providerRejected("\(detail): the endpoint is gone and now disabled")
        case .unavailable(let reason):
            return .unavailable(reason)
        case .endpointRefused(let reason):
            return .providerRejected(reason)
        case .rejected(let reason):
            return .rejected(reason)
        }
    }
}
