/// What the engine made of one inbound message, which becomes the reply to the end of DATA.
///
/// The reply is what the sending server acts on: after 250 it forgets the message, after 451 it tries
/// again later, after 554 it gives up (and, for a bounce, drops it: bounces are never bounced).
public enum InboundDeliveryOutcome: Sendable, Hashable {
    /// Taken: reply `250 2.0.0`.
    case accepted
    /// Not now (the store is unavailable, say): reply `451 4.3.0` with this text, so the sender retries.
    case temporaryFailure(String)
    /// Never: reply `554 5.6.0` with this text.
    case rejected(String)
}
