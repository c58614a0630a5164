import Foundation

/// How far one chunk moved a fan-out job.
public struct FanoutProgress: Sendable, Hashable {
    public var planned: Int
    public var finished: Bool

    public init(planned: Int, finished: Bool) {
        self.planned = planned
        self.finished = finished
    }
}
