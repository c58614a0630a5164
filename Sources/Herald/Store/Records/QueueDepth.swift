import Foundation

/// Work waiting, for readiness checks and operators.
public struct QueueDepth: Sendable, Hashable, Codable {
    public var byPriority: [String: Int]
    public var fanoutJobs: Int

    public init(byPriority: [String: Int], fanoutJobs: Int) {
        self.byPriority = byPriority
        self.fanoutJobs = fanoutJobs
    }

    enum CodingKeys: String, CodingKey {
        case byPriority = "by_priority"
        case fanoutJobs = "fanout_jobs"
    }
}
