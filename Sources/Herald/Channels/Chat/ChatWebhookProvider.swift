import Foundation

/// One chat webhook as a provider for ``FailoverDelivery``: formats the message for its service, posts
/// it, and reads the answer the service's way.
///
/// Webhooks share a circuit per service and host (`chat slack hooks.slack.com`): an outage is the
/// service's, and the circuits stay few however many subscribers bring their own webhook (each one is a
/// series in `/metrics`). A webhook that is gone or forbidden answers 404, 410, 401 or 403, which never
/// counts against the circuit; a circuit counts consecutive failures, so one tenant's rate-limited
/// webhook rarely opens it while others' posts succeed, and if it does, messages wait without losing
/// attempts.
public struct ChatWebhookProvider: MessageProvider {
    public let service: ChatService
    public let url: URL
    public let http: OutboundHTTPClient
    /// `slack hooks.slack.com`: the URL's path is its secret, so only the host is shown.
    public let name: String

    public init(service: ChatService, url: URL, http: OutboundHTTPClient, label: String? = nil) {
        self.service = service
        self.url = url
        self.http = http
        self.name = "\(service.rawValue) \(url.displayHost)" + (label.map { " (\($0))" } ?? "")
    }

    public var circuitKey: String { "chat \(service.rawValue) \(url.displayHost)" }

    public func send(_ outgoing: OutgoingMessage) async -> ProviderOutcome {
        await send(ChatMessage(outgoing.content), priority: outgoing.message.priority)
    }

    public func send(_ message: ChatMessage, priority: Priority = .medium) async -> ProviderOutcome {
        let body = Array(JSONCoding.encode(service.body(for: message)))
        switch await http.send(.POST, to: url, headers: [("Content-Type", "application/json")], body: body, priority: priority) {
        case .answered(let answer): return service.outcome(for: answer)
        case .failed(let reason): return .unavailable(reason)
        case .refused(let reason): return .providerRejected("not sent: \(reason)")
        }
    }
}
