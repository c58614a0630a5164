extension SMSSettings {
    /// Read-only beside the settings: the providers in force (the tenant's, else the server's), without credentials.
    public struct Effective: Encodable, Sendable {
        public struct Provider: Encodable, Sendable {
            public var type: SMSProviderConfiguration.Kind
            public var name: String?
            public var host: String?
            public var from: String?
        }

        /// `tenant`, `server`, or `none` when no provider is configured anywhere (SMS messages then fail).
        public var source: String
        public var providers: [Provider]
        public var maxSegments: Int

        enum CodingKeys: String, CodingKey {
            case source, providers
            case maxSegments = "max_segments"
        }

        init(settings: SMSSettings, defaults: SMSDefaults) {
            let providers = settings.providers.isEmpty ? defaults.providers : settings.providers
            self.source = !settings.providers.isEmpty ? "tenant" : defaults.providers.isEmpty ? "none" : "server"
            self.providers = providers.map {
                Provider(type: $0.type, name: $0.name, host: $0.endpoint?.host, from: $0.from ?? $0.messagingServiceSID)
            }
            self.maxSegments = settings.maxSegments ?? defaults.maxSegments
        }
    }
}
