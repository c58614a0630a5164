import Synchronization

/// The days at the start of PostgreSQL's history whose every row has expired, which reads skip.
///
/// Retention drops such a day as soon as its last row expires, but the drop takes seconds at size, and
/// until it is done the day's partitions are still part of `messages`. A read that walks the tenant index
/// newest first (the activity log) merges every partition's index, and in a day where nothing is to be
/// shown it reads every one of the tenant's rows before giving up: 2.2 s for a tenant with 1.2 million
/// rows in a day of ten million (docs/scaling.md). The drop's concurrent detach then waits for that read.
/// With a lower bound on `event_pk`, PostgreSQL leaves those partitions out of the plan.
///
/// A plain value: the rule is tested without a database.
struct ExpiredDays: Sendable, Equatable {
    /// The partitions with the expiry bounds of their rows, as ``PostgresStore/historyPartitions(_:_:today:)``
    /// read them.
    var partitions: [HistoryPartition]

    /// The first event key a read must consider at `now` (milliseconds): every partition below it is the
    /// legacy one or a day before `settledBefore`, and holds no row that expires at or after `now`. Nil
    /// when nothing can be skipped.
    ///
    /// Only days before `settledBefore` count: their bounds can no longer grow. A day's events are all
    /// written on that day (the day is in their key), and a message written later for one of them (a
    /// fan-out chunk, a workflow step) expires with its event. The legacy partition takes no new event
    /// either. So a bound read once stays an upper bound, and the read it serves needs no fresher one.
    func floor(now: Int64, settledBefore: Int64) -> Int64? {
        var floor: Int64?
        for partition in partitions.sorted(by: { ($0.day ?? .min) < ($1.day ?? .min) }) {
            let gone = partition.latestExpiry.map { $0 < now } ?? true
            guard let day = partition.day else {
                guard gone else { return nil }
                continue
            }
            guard day < settledBefore, gone else { return day << 32 }
            floor = (day + 1) << 32
        }
        return floor
    }
}

extension ExpiredDays {
    /// A day counts as over (``floor(now:settledBefore:)``) once the database's clock is this far past its
    /// end: an event's key takes the day of its transaction's start, so a transaction begun just before
    /// midnight may still write the day's events for as long as it runs.
    static let settlingMillis: Int64 = 600_000

    /// What one node knows of the history's expiry bounds, read again at most once a minute (a day settles
    /// once a day; each read costs a catalog query and two index probes per partition).
    final class Cache: Sendable {
        private struct Known {
            var days: ExpiredDays
            /// The first day not yet settled when they were read, and when (milliseconds of this node's clock).
            var settledBefore: Int64
            var readAt: Int64
        }
        private let known = Mutex<Known?>(nil)
        static let refreshMillis: Int64 = 60_000

        /// The floor at `now`, reading the bounds first when what is known is older than a minute. `read`
        /// gives the database's clock (milliseconds) and the partitions. When it fails, what was known serves
        /// for another minute (the bounds of a settled day never change; a day it does not know yet is read);
        /// with nothing known, the error is thrown.
        func floor(now: Int64, read: () async throws -> (databaseNow: Int64, partitions: [HistoryPartition])) async throws -> Int64? {
            var current = known.withLock { $0 }
            if current.map({ now - $0.readAt >= Self.refreshMillis || now < $0.readAt }) ?? true {
                do {
                    let (databaseNow, partitions) = try await read()
                    let settledBefore = (databaseNow - ExpiredDays.settlingMillis) / HistoryPartition.dayMillis
                    current = Known(days: ExpiredDays(partitions: partitions), settledBefore: settledBefore, readAt: now)
                } catch {
                    guard current != nil else { throw error }
                    current?.readAt = now
                }
                known.withLock { [current] in $0 = current }
            }
            guard let current else { return nil }
            return current.days.floor(now: now, settledBefore: current.settledBefore)
        }
    }
}
