/// One event collected into a digest, as the digest's message is rendered.
public struct DigestItem: Sendable {
    /// The item's own message (merged into the digest, or the digest's message itself).
    public var messageRowID: Int64
    public var event: EventContext

    public init(messageRowID: Int64, event: EventContext) {
        self.messageRowID = messageRowID
        self.event = event
    }
}
