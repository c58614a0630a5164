import Foundation

/// The inbox, always through a verified subscriber token's claims: a token names one tenant and one
/// subscriber, and every query is scoped to both.
extension HeraldEngine {
    /// The claims of a token with a valid signature that has not expired. Whether its subscriber still
    /// exists is ``isCurrent(_:)``'s question, which needs the store.
    public func verifySubscriberToken(_ token: String) -> SubscriberTokens.Claims? {
        tokens.verify(token)
    }

    /// Whether the subscriber a token was issued to still exists, and is the same subscriber: not deleted,
    /// and not replaced by a new subscriber created later under the same id (a new resident of flat 12
    /// must not read with the previous resident's token). One indexed read.
    public func isCurrent(_ claims: SubscriberTokens.Claims) async throws -> Bool {
        guard let issuedFor = claims.subscriberCreatedAt,
            let subscriber = try await store.subscriber(tenantID: claims.tenantID, id: claims.subscriberID)
        else { return false }
        return SubscriberTokens.incarnation(of: subscriber) == issuedFor
    }

    public func inbox(_ claims: SubscriberTokens.Claims, filter: InboxFilter, cursor: String?, limit: Int) async throws -> Page<InboxItem> {
        try await store.inbox(
            tenantID: claims.tenantID, subscriberID: claims.subscriberID, filter: filter, cursor: try Cursor.decode(cursor), limit: limit)
    }

    public func inboxCounts(_ claims: SubscriberTokens.Claims) async throws -> InboxCounts {
        try await store.inboxCounts(tenantID: claims.tenantID, subscriberID: claims.subscriberID)
    }

    public func markRead(_ claims: SubscriberTokens.Claims, messageID: String) async throws -> InboxCounts {
        // One instant for the store and the observers: status webhooks find what this read changed by its time.
        let now = clock.now()
        guard let rowID = Message.rowID(messageID),
            try await store.markRead(tenantID: claims.tenantID, subscriberID: claims.subscriberID, messageID: rowID, now: now)
        else { throw HeraldError.notFound("inbox message '\(messageID)'") }
        await announce(InboxChange(tenantID: claims.tenantID, subscriberID: claims.subscriberID, kind: .read, messageID: messageID, at: now))
        return try await inboxCounts(claims)
    }

    public func archive(_ claims: SubscriberTokens.Claims, messageID: String) async throws -> InboxCounts {
        guard let rowID = Message.rowID(messageID),
            try await store.archive(tenantID: claims.tenantID, subscriberID: claims.subscriberID, messageID: rowID, now: clock.now())
        else { throw HeraldError.notFound("inbox message '\(messageID)'") }
        await announce(InboxChange(tenantID: claims.tenantID, subscriberID: claims.subscriberID, kind: .archived, messageID: messageID))
        return try await inboxCounts(claims)
    }

    public func markAllRead(_ claims: SubscriberTokens.Claims) async throws -> InboxCounts {
        let now = clock.now()
        _ = try await store.markAllRead(tenantID: claims.tenantID, subscriberID: claims.subscriberID, now: now)
        await announce(InboxChange(tenantID: claims.tenantID, subscriberID: claims.subscriberID, kind: .readAll, at: now))
        return try await inboxCounts(claims)
    }

    public func markAllSeen(_ claims: SubscriberTokens.Claims) async throws -> InboxCounts {
        _ = try await store.markAllSeen(tenantID: claims.tenantID, subscriberID: claims.subscriberID, now: clock.now())
        await announce(InboxChange(tenantID: claims.tenantID, subscriberID: claims.subscriberID, kind: .seen))
        return try await inboxCounts(claims)
    }

    /// The subscriber followed an inbox message's link: recorded as a click (and a read), which a
    /// workflow waiting `until: clicked` (or read) sees at once.
    public func markClicked(_ claims: SubscriberTokens.Claims, messageID: String) async throws -> InboxCounts {
        let now = clock.now()
        guard let rowID = Message.rowID(messageID),
            try await store.markClicked(tenantID: claims.tenantID, subscriberID: claims.subscriberID, messageID: rowID, now: now)
        else { throw HeraldError.notFound("inbox message '\(messageID)'") }
        await announce(InboxChange(tenantID: claims.tenantID, subscriberID: claims.subscriberID, kind: .read, messageID: messageID, at: now))
        return try await inboxCounts(claims)
    }

    /// Tells every observer (live inbox connections, status webhooks) after the change is stored, and the
    /// workflow runner, which advances at once any run whose wait the change ended (woken in the change's
    /// own transaction).
    func announce(_ change: InboxChange) async {
        workflowWakeup.ring()
        for observer in observers { await observer.inboxChanged(change) }
    }
}
