import Foundation

extension HeraldEngine {
    static let chatSettingsKey = "chat"

    /// The built-in chat channel, reading each tenant's webhooks from the store.
    static func makeChatChannel(store: any Store, http: OutboundHTTPClient, circuits: CircuitBreakers) -> ChatChannel {
        ChatChannel(http: http, circuits: circuits) { tenantID in try await loadChatSettings(store: store, tenantID: tenantID) }
    }

    static func loadChatSettings(store: any Store, tenantID: String) async throws -> ChatSettings {
        guard let text = try await store.tenantSetting(tenantID: tenantID, key: chatSettingsKey) else { return ChatSettings() }
        return try JSONCoding.decoder.decode(ChatSettings.self, from: Data(text.utf8))
    }

    /// The chat channel in use (built-in or given), for cache invalidation.
    public var chatChannel: ChatChannel? { channels.first { $0.kind == .chat } as? ChatChannel }

    /// The tenant's chat settings as stored (URLs included; redact before showing them).
    public func chatSettings(tenantID: String) async throws -> ChatSettings {
        try await Self.loadChatSettings(store: store, tenantID: tenantID)
    }

    /// Replaces the tenant's chat webhooks after checking each one. A URL sent back redacted
    /// (`https://hooks.slack.com/********`) keeps the stored URL it stands for, so a settings page can
    /// reorder or relabel webhooks without knowing their secrets. Each webhook is stored with its
    /// service, inferred from the host when not named.
    @discardableResult
    public func putChatSettings(tenantID: String, _ settings: ChatSettings) async throws -> ChatSettings {
        var settings = settings
        if settings.webhooks.contains(where: \.isRedacted) {
            settings = settings.restoringURLs(from: try await chatSettings(tenantID: tenantID))
        }
        let problems = settings.problems() + settings.destinationProblems(policy: configuration.outbound.policy)
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        for index in settings.webhooks.indices { settings.webhooks[index].provider = settings.webhooks[index].service }
        if settings.webhooks.isEmpty {
            try await store.putTenantSetting(tenantID: tenantID, key: Self.chatSettingsKey, value: nil)
        } else {
            try await store.putTenantSetting(tenantID: tenantID, key: Self.chatSettingsKey, value: JSONCoding.encodeText(settings))
        }
        chatChannel?.settingsChanged(tenantID: tenantID)
        return settings
    }

    public func deleteChatSettings(tenantID: String) async throws {
        try await store.putTenantSetting(tenantID: tenantID, key: Self.chatSettingsKey, value: nil)
        chatChannel?.settingsChanged(tenantID: tenantID)
    }
}
