/// How one mail transaction ended, per recipient: the reply that decided each recipient's copy.
///
/// A recipient is accepted only when its RCPT and the end of DATA were both accepted. One recipient's
/// 550 does not fail the others; a 4xx is worth retrying for that recipient alone.
public struct SMTPTransactionResult: Sendable, Hashable {
    public struct Recipient: Sendable, Hashable {
        public var address: String
        /// The deciding reply: the end-of-data reply for an accepted recipient, else the first refusal.
        public var reply: SMTPReply
        public var accepted: Bool { reply.kind == .positiveCompletion }
    }

    public var recipients: [Recipient]

    public init(recipients: [Recipient]) {
        self.recipients = recipients
    }

    /// The result for `address`.
    public subscript(address: String) -> Recipient? { recipients.first { $0.address == address } }

    public var allAccepted: Bool { recipients.allSatisfy(\.accepted) }
}
