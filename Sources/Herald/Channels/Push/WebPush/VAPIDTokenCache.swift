import Foundation
import Synchronization

/// Signed VAPID `Authorization` headers, kept per push service origin, key and subject and reused until an hour
/// before they expire. RFC 8292 §2 lets a token be reused for as long as it is valid, and a push service can
/// recognise (and cheaply verify) a token it has seen: one signature per push service every 11 hours rather
/// than one per message.
///
/// A missing token is signed while the lock is held, so a burst of messages to one push service shares a single
/// token instead of each signing its own (a P-256 signature takes tens of microseconds).
final class VAPIDTokenCache: Sendable {
    /// A token is replaced this long before its `exp`, so it never reaches a push service expired (clock skew, a
    /// slow request, a queued retry).
    static let renewalMargin: TimeInterval = 3600
    /// Bounds the cache: a tenant count times the push services in use (a handful) never comes near it.
    static let capacity = 4096

    private struct Key: Hashable {
        var audience: String
        var publicKey: String
        var subject: String
    }

    private struct Entry {
        var header: String
        var expiresAt: Date
    }

    private let entries = Mutex<[Key: Entry]>([:])

    /// The header for `audience`, from the cache or signed now with ``VAPIDKey/tokenLifetime``.
    func authorization(audience: String, subject: String, key: VAPIDKey, now: Date = Date()) throws -> String {
        let cacheKey = Key(audience: audience, publicKey: key.publicKeyBase64URL, subject: subject)
        return try entries.withLock { entries in
            if let entry = entries[cacheKey], now < entry.expiresAt.addingTimeInterval(-Self.renewalMargin) { return entry.header }
            let expiresAt = now.addingTimeInterval(VAPIDKey.tokenLifetime)
            let token = try key.token(audience: audience, subject: subject, expiresAt: expiresAt, now: now)
            let header = "vapid t=\(token), k=\(cacheKey.publicKey)"
            if entries.count >= Self.capacity {
                entries = entries.filter { now < $0.value.expiresAt.addingTimeInterval(-Self.renewalMargin) }
                if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[cacheKey] = Entry(header: header, expiresAt: expiresAt)
            return header
        }
    }

    /// Drops the token for `audience`: the push service refused it (401/403), so the next message signs afresh.
    func invalidate(audience: String, subject: String, key: VAPIDKey) {
        let cacheKey = Key(audience: audience, publicKey: key.publicKeyBase64URL, subject: subject)
        _ = entries.withLock { $0.removeValue(forKey: cacheKey) }
    }
}
