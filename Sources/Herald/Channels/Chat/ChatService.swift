import Foundation

/// A chat service Herald posts to through an incoming webhook. Each has its own message format and
/// its own way of answering; ``ChatWebhookProvider`` sends, the per-service payload types format.
public enum ChatService: String, Sendable, Codable, CaseIterable, Hashable {
    /// Slack incoming webhooks (`https://hooks.slack.com/services/…`).
    case slack
    /// Microsoft Teams workflow webhooks (Power Automate "post to a channel when a webhook request is received").
    case teams
    /// Discord channel webhooks (`https://discord.com/api/webhooks/{id}/{token}`).
    case discord

    /// Refuses an unknown name with the list of known ones, which the API's 422 shows.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let service = ChatService(rawValue: text.lowercased()) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not one of \(ChatService.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = service
    }

    /// The service a webhook URL belongs to, judged by its host, or nil for a host Herald does not
    /// know (a self-hosted Mattermost, say: name the provider explicitly then).
    public static func inferred(from url: URL) -> ChatService? {
        guard let host = url.host?.lowercased() else { return nil }
        func under(_ domain: String) -> Bool { host == domain || host.hasSuffix("." + domain) }
        if under("hooks.slack.com") || under("hooks.slack-gov.com") { return .slack }
        if under("discord.com") || under("discordapp.com") || under("canary.discord.com") || under("ptb.discord.com") { return .discord }
        // Workflow webhooks live on Logic Apps or Power Platform hosts; the retired Office 365
        // connectors lived on webhook.office.com.
        if under("logic.azure.com") || under("powerplatform.com") || under("webhook.office.com") { return .teams }
        return nil
    }

    /// The JSON body this service expects for a message.
    public func body(for message: ChatMessage) -> JSONValue {
        switch self {
        case .slack: SlackPayload.body(for: message)
        case .teams: TeamsPayload.body(for: message)
        case .discord: DiscordPayload.body(for: message)
        }
    }

    /// What an answer from this service means for the message.
    public func outcome(for answer: OutboundHTTPAnswer) -> ProviderOutcome {
        switch self {
        case .slack, .teams: ChatAnswer.outcome(for: answer, retryAfter: answer.retryAfterSeconds)
        case .discord: ChatAnswer.outcome(for: answer, retryAfter: DiscordPayload.retryAfter(in: answer))
        }
    }
}
