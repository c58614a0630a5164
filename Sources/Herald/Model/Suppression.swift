import Foundation

/// An address a tenant's email no longer goes to: it bounced hard, its owner complained, it soft-bounced
/// too often, or an operator put it on the list. Every later email to it is `suppressed` with the
/// entry's reason (critical ones too, unless the tenant's `send_critical_to_suppressed` says otherwise),
/// until the entry is lifted.
public struct Suppression: Sendable, Codable, Hashable {
    public enum Reason: String, Sendable, Codable, Hashable, CaseIterable {
        case bounced
        case complained
        /// Put on the list through the API or the console.
        case manual

        /// The reason a message suppressed by such an entry carries.
        public var messageReason: SuppressionReason {
            switch self {
            case .bounced: .bounced
            case .complained: .complained
            case .manual: .suppressionList
            }
        }
    }

    /// Lowercased, as every comparison with it is.
    public var address: String
    public var reason: Reason
    /// The message whose bounce or complaint put the address here (its public id), if one did.
    public var messageID: String?
    /// What the report said (`5.1.1 user unknown`), or the operator's note.
    public var detail: String?
    public var createdAt: Date

    public init(address: String, reason: Reason, messageID: String? = nil, detail: String? = nil, createdAt: Date) {
        self.address = address.lowercased()
        self.reason = reason
        self.messageID = messageID
        self.detail = detail
        self.createdAt = createdAt
    }

    /// What a message this entry suppresses says: `on the suppression list since … (bounced: 5.1.1 …)`.
    public var suppressionDetail: String {
        "\(address) is on the suppression list since \(Timestamp.format(createdAt)) (\(reason.rawValue)\(detail.map { ": \($0)" } ?? ""))"
    }

    enum CodingKeys: String, CodingKey {
        case address, reason, detail
        case messageID = "message_id"
        case createdAt = "created_at"
    }
}
