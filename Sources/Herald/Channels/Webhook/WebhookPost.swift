import Foundation

/// One signed POST of a webhook body to one URL, and what its answer means for the sender.
///
/// The webhook channel and the status-webhook sender both post this way and read answers the same way:
///
/// | answer | meaning |
/// |---|---|
/// | 2xx | delivered |
/// | 410 Gone | the endpoint is gone: disable it, send nothing more there |
/// | 408, 429, 5xx, timeout, no connection | the endpoint is unavailable: counts on its circuit, retried later |
/// | 3xx, refused by the destination policy | this endpoint will not take it (another might) |
/// | any other 4xx | the receiver refuses this request: retrying cannot help |
public enum WebhookPost {
    public enum Outcome: Sendable, Hashable {
        case delivered(String)
        case gone(String)
        case unavailable(String)
        case endpointRefused(String)
        case rejected(String)
    }

    public static func send(
        _ body: [UInt8], id: String, to url: String, secrets: [WebhookSecret], client: OutboundHTTPClient, now: Date = Date(),
        priority: Priority = .medium
    ) async -> Outcome {
        guard let target = URL(string: url) else { return .endpointRefused("\(url) is not a valid URL") }
        let headers = WebhookSigner.headers(id: id, timestamp: now, body: body, secrets: secrets)
        switch await client.send(.POST, to: target, headers: headers, body: body, priority: priority) {
        case .refused(let reason):
            return .endpointRefused("destination refused: \(reason)")
        case .failed(let reason):
            return .unavailable(reason)
        case .answered(let answer):
            return outcome(of: answer)
        }
    }

    static func outcome(of answer: OutboundHTTPAnswer) -> Outcome {
        switch answer.status {
        case 200..<300: .delivered("HTTP \(answer.status)")
        case 410: .gone(answer.summary)
        case 408, 429, 500...: .unavailable(answer.summary)
        case 300..<400: .endpointRefused("\(answer.summary) (redirects are not followed; configure the final URL)")
        default: .rejected(answer.summary)
        }
    }
}
