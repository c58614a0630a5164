/// An index of `messages` that a migration changes on a history that may hold millions of rows. On
/// PostgreSQL the migration builds it on each partition `CONCURRENTLY` first (``prepareEachPartition``,
/// run outside any transaction, so writes go on), and creating it on the partitioned parent in the
/// migration's transaction then adopts those instead of building them under the parent's lock.
struct HistoryIndex: Sendable {
    /// The parent's index.
    var name: String
    /// What each partition's own index is called after: `messages_20261205_<suffix>`.
    var partitionSuffix: String
    /// The key, as `CREATE INDEX … ON messages(…)` takes it.
    var columns: String
    var predicate: String?

    var create: String {
        "CREATE INDEX \(name) ON messages(\(columns))" + (predicate.map { " WHERE \($0)" } ?? "")
    }

    /// Only a history with messages needs the concurrent builds; on an empty one the parent's index is
    /// instant, and `CREATE INDEX CONCURRENTLY` would wait for every transaction open in the database.
    static let prepareNeeded = "SELECT EXISTS (SELECT 1 FROM messages)"

    /// PostgreSQL: the statements that build it on each partition of `messages` without blocking writes,
    /// each idempotent; one an interrupted build left invalid is dropped and built again.
    var prepareEachPartition: String {
        let suffix = "_" + partitionSuffix
        let condition = predicate.map { " WHERE " + $0.replacingOccurrences(of: "'", with: "''") } ?? ""
        return """
            SELECT statement FROM (
                SELECT c.relname, 1 AS position, format('DROP INDEX CONCURRENTLY IF EXISTS %I', c.relname || '\(suffix)') AS statement
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = to_regclass('messages') AND EXISTS (
                    SELECT 1 FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
                    WHERE ic.relname = c.relname || '\(suffix)' AND ic.relnamespace = c.relnamespace AND NOT x.indisvalid)
                UNION ALL
                SELECT c.relname, 2, format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I(\(columns))\(condition)', c.relname || '\(suffix)', c.relname)
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = to_regclass('messages')
            ) s ORDER BY relname, position
            """
    }
}
