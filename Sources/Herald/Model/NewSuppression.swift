/// `POST /v1/suppressions`: an address to put on the tenant's list.
public struct NewSuppression: Sendable, Codable, Hashable {
    public var address: String
    /// `manual` when left out; `bounced` or `complained` to record what another system learnt.
    public var reason: Suppression.Reason?
    public var detail: String?

    public init(address: String, reason: Suppression.Reason? = nil, detail: String? = nil) {
        self.address = address
        self.reason = reason
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case address, reason, detail }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        address = try container.decode(String.self, forKey: .address)
        reason = try container.decodeIfPresent(Suppression.Reason.self, forKey: .reason)
        detail = try container.decodeIfPresent(String.self, forKey: .detail)
    }
}
