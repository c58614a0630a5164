/// Where a message is in its life. `queued` and `sending` messages are work: SQLite keeps them in the message table
/// itself, PostgreSQL in a narrow queue beside it (``MessageQueue``), whose lease is what shows as `sending`.
public enum MessageStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting to be claimed (now, or at its `available_at`, which a retry or `send_at` pushes back).
    case queued
    /// Claimed by a dispatcher under a lease; reclaimed by anyone once the lease runs out.
    case sending
    /// Handed to a provider that accepted it (SMTP 250, HTTP 2xx).
    case sent
    /// Known to have reached the subscriber (in-app: stored in the inbox).
    case delivered
    /// Failed for a reason retrying cannot fix; `reason` and the attempts say why.
    case failed
    /// Transient failures exhausted the attempt limit; `POST /v1/messages/{id}/retry` requeues it.
    case deadLettered = "dead_lettered"
    /// Deliberately not sent; `reason` says why (`preference`, …).
    case suppressed
    /// Cancelled before it went out.
    case cancelled
    /// Collected into a digest: it goes out as an item of the digest's own message (`related_id`).
    case merged

    /// States that will not change without an operator.
    public var isFinal: Bool {
        switch self {
        case .queued, .sending: false
        default: true
        }
    }
}

/// Why a message was not sent, recorded on the message itself.
public enum SuppressionReason: String, Sendable, Codable {
    case preference
    case unsubscribed
    case duplicate
    case rateLimited = "rate_limited"
    case noAddress = "no_address"
    case recipientNotAllowed = "recipient_not_allowed"
    /// The address is on the tenant's suppression list after a hard bounce (or too many soft ones).
    case bounced
    /// The address is on the tenant's suppression list after its owner reported an email as spam.
    case complained
    /// The address was put on the tenant's suppression list by hand.
    case suppressionList = "suppression_list"
}
