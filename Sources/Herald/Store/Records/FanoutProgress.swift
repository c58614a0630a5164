import Foundation

/// How far one chunk moved a fan-out job.
public struct FanoutProgress: Sendable, Hashable {
    public var planned: Int
    public var finished: Bool
    /// The job's cursor was no longer where the chunk was planned from (a chunk before it stopped early), or the
    /// topic's members in its range changed since it was planned (one was deleted), so nothing was written: the
    /// members after the job's cursor are planned again.
    public var moved: Bool

    public init(planned: Int, finished: Bool, moved: Bool = false) {
        self.planned = planned
        self.finished = finished
        self.moved = moved
    }
}
