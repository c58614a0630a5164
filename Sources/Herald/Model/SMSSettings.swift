/// A tenant's SMS settings: its provider accounts in failover order, and the most segments one message
/// may take. With no providers of its own, a tenant sends through the server's (`sms:` in herald.yml).
///
/// Stored as one JSON document per tenant; `GET /v1/settings/sms` never shows a secret.
public struct SMSSettings: Sendable, Codable, Hashable {
    public var providers: [SMSProviderConfiguration]
    /// Longer messages are cut, with an ellipsis, to fit in this many segments.
    public var maxSegments: Int?

    public static let maximumProviders = 5
    public static let segmentRange = 1...10
    /// `max_segments` wherever it is read; the range is checked by `problems()`.
    public static let maxSegmentsRule = NumberRule.whole(segmentRange)

    public init(providers: [SMSProviderConfiguration] = [], maxSegments: Int? = nil) {
        self.providers = providers
        self.maxSegments = maxSegments
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case providers
        case maxSegments = "max_segments"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self, also: ReadOnlyField.names(.effective))
        self.providers = try container.decodeIfPresent([SMSProviderConfiguration].self, forKey: .providers) ?? []
        self.maxSegments = try container.decodeIfPresent(Int.self, forKey: .maxSegments, within: Self.maxSegmentsRule, deferringRange: true)
    }

    public var redacted: SMSSettings {
        SMSSettings(providers: providers.map(\.redacted), maxSegments: maxSegments)
    }

    /// These settings with each secret sent back as `********` replaced by the stored secret of the same
    /// account (at the same position if it is the same account, else the only stored one that is).
    public func restoringSecrets(from stored: SMSSettings) -> SMSSettings {
        var copy = self
        for (index, provider) in providers.enumerated() {
            let candidates: [SMSProviderConfiguration]
            if index < stored.providers.count, stored.providers[index].isSameAccount(as: provider) {
                candidates = [stored.providers[index]]
            } else {
                candidates = stored.providers.filter { $0.isSameAccount(as: provider) }
            }
            guard candidates.count == 1 else { continue }
            if provider.authToken == SMSProviderConfiguration.redactedSecret { copy.providers[index].authToken = candidates[0].authToken }
            if provider.authValue == SMSProviderConfiguration.redactedSecret { copy.providers[index].authValue = candidates[0].authValue }
        }
        return copy
    }
}
