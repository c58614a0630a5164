/// Whether a tenant's (or an event type's) email records opens and clicks. Off unless switched on, and never
/// applied to critical email. An event type's setting overrides the tenant's, field by field.
public struct EmailTracking: Sendable, Codable, Hashable {
    /// Adds a one-pixel image whose loading records an open.
    public var opens: Bool?
    /// Rewrites the links of the HTML part to signed redirects through Herald that record a click.
    public var clicks: Bool?

    public init(opens: Bool? = nil, clicks: Bool? = nil) {
        self.opens = opens
        self.clicks = clicks
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case opens, clicks
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        opens = try container.decodeIfPresent(Bool.self, forKey: .opens)
        clicks = try container.decodeIfPresent(Bool.self, forKey: .clicks)
    }
}
