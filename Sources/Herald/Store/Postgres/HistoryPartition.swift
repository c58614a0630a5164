/// One day of PostgreSQL's partitioned history (or the `_legacy` partitions from before), and what
/// retention does with it: a plain value, so the rule is tested without a database.
struct HistoryPartition: Sendable, Equatable {
    /// `legacy`, or the day as `YYYYMMDD`: the part of the three tables' names after `events_`.
    var suffix: String
    /// Days since 1970 (UTC); nil for `legacy`.
    var day: Int64?
    /// The database's day when the partitions were listed.
    var today: Int64
    /// The earliest and latest `expires_at` of its messages and events (milliseconds); nil when empty.
    var earliestExpiry: Int64?
    var latestExpiry: Int64?

    init(suffix: String, today: Int64, earliestExpiry: Int64? = nil, latestExpiry: Int64? = nil) {
        self.suffix = suffix
        self.day = PartitionedHistory.day(stamp: suffix)
        self.today = today
        self.earliestExpiry = earliestExpiry
        self.latestExpiry = latestExpiry
    }

    enum Fate: Equatable {
        /// Every row has expired, on a day that is over: its tables are dropped.
        case drop
        /// Nothing to do: nothing has expired, or what has waits for the drop, within a day.
        case keep
        /// Expired rows are deleted one by one.
        case deleteExpired
    }

    static let dayMillis: Int64 = 86_400_000

    /// What retention does with it at `now` (milliseconds).
    func fate(now: Int64) -> Fate {
        let anyExpired = earliestExpiry.map { $0 < now } ?? false
        // Today's and later days may still take rows; the legacy partitions never empty all at once.
        guard let day, day < today else { return anyExpired ? .deleteExpired : .keep }
        guard let latestExpiry, latestExpiry >= now else { return .drop }
        guard anyExpired else { return .keep }
        return latestExpiry <= now + Self.dayMillis ? .keep : .deleteExpired
    }

    /// The partition's tables, quoted: events, messages, attempts (for `legacy`, the default partition
    /// of `attempts`, where attempts without an event key are).
    var tables: (events: String, messages: String, attempts: String) {
        ("\"events_\(suffix)\"", "\"messages_\(suffix)\"", "\"attempts_\(suffix)\"")
    }

    /// What a drop does first, in one transaction that waits at most two seconds for its locks: what hangs
    /// off the day's rows (no foreign key does it, see PartitionedHistory), then the day's `attempts`
    /// partition detached the plain way, since `attempts` has a default partition (the legacy rows) and
    /// PostgreSQL detaches concurrently only without one. Detaching is catalog work, so the parent's
    /// exclusive lock lasts a moment; the files go later, with the detached table. Each statement is a
    /// no-op when a crashed round already did it.
    var dropPreparation: [String] {
        guard let day else { return [] }
        let (_, messages, attempts) = tables
        let (low, high) = (day << 32, (day + 1) << 32)
        return [
            "DELETE FROM queue WHERE event_pk >= \(low) AND event_pk < \(high)",
            "DELETE FROM fanout_jobs WHERE event_pk >= \(low) AND event_pk < \(high)",
            "DELETE FROM workflow_runs WHERE event_pk >= \(low) AND event_pk < \(high)",
            "DELETE FROM event_attachments WHERE event_pk >= \(low) AND event_pk < \(high)",
            """
            DELETE FROM email_feedback f
            WHERE f.message_id BETWEEN (SELECT coalesce(min(id), 0) FROM \(messages)) AND (SELECT coalesce(max(id), -1) FROM \(messages))
            AND EXISTS (SELECT 1 FROM \(messages) m WHERE m.id = f.message_id)
            """,
            """
            DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass('\(attempts)') AND NOT inhdetachpending) THEN
                    ALTER TABLE attempts DETACH PARTITION \(attempts);
                END IF;
            END $$
            """,
        ]
    }

    /// The day's `messages` and `events` partitions, each detached `CONCURRENTLY` (outside any
    /// transaction): the parent is held only in `SHARE UPDATE EXCLUSIVE` mode, so reads and writes of
    /// the other days go on, and PostgreSQL waits for the transactions that could still see the day.
    /// `events` goes last, because the round finds its days by `events`' partitions.
    var concurrentDetachments: [(parent: String, partition: String)] {
        guard day != nil else { return [] }
        let (events, messages, _) = tables
        return [("messages", messages), ("events", events)]
    }

    /// The day's detached tables, dropped: no query of the parents touches them any more, so unlinking
    /// their files holds nobody up.
    var dropDetached: String {
        let (events, messages, attempts) = tables
        return "DROP TABLE IF EXISTS \(attempts), \(messages), \(events)"
    }
}
