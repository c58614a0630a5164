import Foundation
import Synchronization

/// Values looked up by key and kept for `lifetime` seconds, for reads that happen on every request but
/// change rarely (event types). Bounded: cleared when it holds too many.
public final class LookupCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let lifetime: Double
    private let limit: Int
    private let entries = Mutex<[Key: (value: Value, storedAt: ContinuousClock.Instant)]>([:])

    public init(lifetime: Double, limit: Int = 10_000) {
        self.lifetime = lifetime
        self.limit = limit
    }

    /// The remembered value, or nil when there is none or it is too old. (A remembered `nil` of an
    /// optional `Value` comes back as `.some(nil)`.)
    public func value(for key: Key) -> Value? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard ContinuousClock.now - entry.storedAt < Seconds(clamping: lifetime).duration else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    public func store(_ value: Value, for key: Key) {
        entries.withLock { entries in
            if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = (value, .now)
        }
    }

    public func remove(_ key: Key) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }

    public func removeAll() {
        entries.withLock { $0.removeAll() }
    }
}
