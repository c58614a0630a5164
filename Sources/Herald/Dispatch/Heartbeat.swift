import Foundation
import Synchronization

/// When a long-running loop last went round, so readiness can tell a live dispatcher from a stuck one.
public final class Heartbeat: Sendable {
    private let lastBeat = Atomic<Int64>(0)

    public init() {}

    public func beat(at date: Date = Date()) {
        lastBeat.store(Timestamp.millis(date), ordering: .relaxed)
    }

    /// The time of the last beat, or nil if the loop never ran.
    public var last: Date? {
        let millis = lastBeat.load(ordering: .relaxed)
        return millis == 0 ? nil : Timestamp.date(millis: millis)
    }
}
