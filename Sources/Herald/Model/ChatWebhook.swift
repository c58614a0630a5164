import Foundation

/// One chat webhook a tenant posts to: the service and its incoming-webhook URL.
///
/// The URL is a secret (whoever has it can post to the channel), so API answers show only its scheme
/// and host followed by `/********`.
public struct ChatWebhook: Sendable, Codable, Hashable {
    /// Inferred from the URL's host when not given (`hooks.slack.com` is Slack); required for a host
    /// Herald does not recognise.
    public var provider: ChatService?
    public var url: String
    /// A label for attempt details and settings pages (`#front-desk`), since the URL is never shown.
    public var name: String?

    public init(provider: ChatService? = nil, url: String, name: String? = nil) {
        self.provider = provider
        self.url = url
        self.name = name
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case provider, url, name }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        provider = try container.decodeIfPresent(ChatService.self, forKey: .provider)
        url = try container.decode(String.self, forKey: .url)
        name = try container.decodeIfPresent(String.self, forKey: .name)
    }

    /// The service this webhook posts to: the one named, else the one its host implies.
    public var service: ChatService? {
        provider ?? URL(string: url).flatMap(ChatService.inferred(from:))
    }

    public static let redactedMarker = "********"

    /// `https://hooks.slack.com/********`: enough to recognise the webhook, not enough to use it.
    public var redactedURL: String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return Self.redactedMarker
        }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)/\(Self.redactedMarker)"
    }

    public var isRedacted: Bool { url.hasSuffix(Self.redactedMarker) }
}
