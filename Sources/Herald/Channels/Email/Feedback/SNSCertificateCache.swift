import Foundation
import Synchronization

/// Amazon SNS signing certificates by URL, so each notification does not fetch its certificate again: SNS signs
/// with one certificate for months, at a URL that names it. Bounded (at most ``limit`` URLs, each kept for
/// ``lifetime`` seconds); a failed fetch is not remembered, so the next notification tries again.
public final class SNSCertificateCache: Sendable {
    public let limit: Int
    public let lifetime: Double
    private let entries = Mutex<[String: (pem: String, fetchedAt: ContinuousClock.Instant)]>([:])

    public init(limit: Int = 32, lifetime: Double = 86_400) {
        self.limit = limit
        self.lifetime = lifetime
    }

    /// The certificate at `url`, from the cache or else from `fetch` (whose answer is then kept).
    public func certificate(at url: String, fetch: @Sendable (String) async throws -> String) async throws -> String {
        if let pem = cached(url) { return pem }
        let pem = try await fetch(url)
        entries.withLock { entries in
            if entries.count >= limit, let oldest = entries.min(by: { $0.value.fetchedAt < $1.value.fetchedAt })?.key {
                entries[oldest] = nil
            }
            entries[url] = (pem, .now)
        }
        return pem
    }

    /// How many certificates are kept now.
    public var count: Int { entries.withLock { $0.count } }

    private func cached(_ url: String) -> String? {
        entries.withLock { entries in
            guard let entry = entries[url] else { return nil }
            guard ContinuousClock.now - entry.fetchedAt < Seconds(clamping: lifetime).duration else {
                entries[url] = nil
                return nil
            }
            return entry.pem
        }
    }
}
