import Foundation

/// The channels on which a tenant names its own destination, read from its stored settings documents:
/// chat when its chat settings list a webhook, webhook when it has an enabled webhook endpoint. Both
/// stores hand this to the message planner.
enum TenantDestinations {
    static func channels(chat: String?, webhook: String?) -> Set<ChannelKind> {
        var channels: Set<ChannelKind> = []
        if let chat, let settings = try? JSONCoding.decoder.decode(ChatSettings.self, from: Data(chat.utf8)), !settings.webhooks.isEmpty {
            channels.insert(.chat)
        }
        if let webhook, let settings = try? JSONCoding.decoder.decode(WebhookSettings.self, from: Data(webhook.utf8)), settings.hasEnabledEndpoint {
            channels.insert(.webhook)
        }
        return channels
    }
}
