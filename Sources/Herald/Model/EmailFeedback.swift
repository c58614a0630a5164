import Foundation

/// What came back about one sent email: a bounce (RFC 3464 or a plain-text one) or a complaint
/// (an ARF report, RFC 5965), recorded against the message it names.
public struct EmailFeedback: Sendable, Codable, Hashable {
    public enum Kind: String, Sendable, Codable, Hashable, CaseIterable {
        /// The address does not exist or refuses mail for good: suppressed at once.
        case hardBounce = "hard_bounce"
        /// A passing refusal (mailbox full): suppresses once the tenant's threshold is reached.
        case softBounce = "soft_bounce"
        /// The recipient marked the email as spam: suppressed at once.
        case complaint

        /// The status webhook this feedback announces.
        public var statusEvent: DeliveryStatusEvent { self == .complaint ? .complained : .bounced }
    }

    public var kind: Kind
    /// The address the feedback is about, lowercased.
    public var address: String
    /// The enhanced status code (`5.1.1`) of a bounce, the feedback type (`abuse`) of a complaint.
    public var status: String?
    public var detail: String?
    public var createdAt: Date

    public init(kind: Kind, address: String, status: String? = nil, detail: String? = nil, createdAt: Date) {
        self.kind = kind
        self.address = address.lowercased()
        self.status = status
        self.detail = detail
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case kind, address, status, detail
        case createdAt = "created_at"
    }
}
