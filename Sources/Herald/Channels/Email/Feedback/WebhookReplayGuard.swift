import Foundation
import Synchronization

/// The ids of provider webhook deliveries already taken (Mailgun's signature tokens, SNS message ids, SendGrid
/// event ids), so a replayed or repeated one is noticed. Each id is remembered for ``window`` seconds and at most
/// ``limit`` are kept, the oldest forgotten first: memory stays bounded whatever arrives, and since only
/// deliveries that verified are claimed, only genuine traffic fills it.
///
/// Per process: on several nodes, a replay that reaches another node within the window is caught there by the
/// provider's own timestamp check (Mailgun) or is a repeat of a feedback already recorded.
public final class WebhookReplayGuard: Sendable {
    public let window: TimeInterval
    public let limit: Int

    private struct State {
        var seen: [String: Date] = [:]
        /// Claims in the order made, for forgetting the oldest; an entry whose id was released or claimed again
        /// later is skipped when its turn comes.
        var order: [(id: String, at: Date)] = []
        var head = 0
    }

    private let state = Mutex(State())

    public init(window: TimeInterval = 3600, limit: Int = 50_000) {
        self.window = window
        self.limit = max(1, limit)
    }

    /// Claims `id` at `now`: true when it was not seen within the window (and is now), false for a repeat.
    public func claim(_ id: String, now: Date) -> Bool {
        state.withLock { state in
            Self.forget(&state, before: now.addingTimeInterval(-window), limit: limit)
            if let seen = state.seen[id], seen > now.addingTimeInterval(-window) { return false }
            state.seen[id] = now
            state.order.append((id, now))
            Self.forget(&state, before: now.addingTimeInterval(-window), limit: limit)
            return true
        }
    }

    /// Forgets a claim whose delivery could not be recorded, so the provider's retry is taken.
    public func release(_ id: String) {
        _ = state.withLock { $0.seen.removeValue(forKey: id) }
    }

    public var count: Int { state.withLock { $0.seen.count } }

    private static func forget(_ state: inout State, before cutoff: Date, limit: Int) {
        while state.head < state.order.count {
            let entry = state.order[state.head]
            let current = state.seen[entry.id]
            // A released id, or one claimed again since, is not this entry's to remove.
            guard current == entry.at else {
                state.head += 1
                continue
            }
            guard entry.at <= cutoff || state.seen.count > limit else { break }
            state.seen[entry.id] = nil
            state.head += 1
        }
        if state.head > 1024, state.head * 2 > state.order.count {
            state.order.removeFirst(state.head)
            state.head = 0
        }
    }
}
