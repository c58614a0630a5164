import Foundation
import Synchronization

/// One value loaded on demand and kept for a few seconds: settings read on every request (CORS
/// origins) without a store read per request. A write on this node invalidates it at once; other
/// nodes see it within `lifetime`.
public final class ExpiringCache<Value: Sendable>: Sendable {
    private let lifetime: Double
    private let state = Mutex<(value: Value, loaded: Date)?>(nil)

    public init(lifetime: Double) {
        self.lifetime = lifetime
    }

    public func value(load: @Sendable () async throws -> Value) async throws -> Value {
        if let cached = state.withLock({ $0 }), Date().timeIntervalSince(cached.loaded) < lifetime { return cached.value }
        let fresh = try await load()
        state.withLock { $0 = (fresh, Date()) }
        return fresh
    }

    public func invalidate() {
        state.withLock { $0 = nil }
    }
}
