/// The index every inbox query starts from: one subscriber's delivered in-app messages, newest first,
/// with the columns the count and the list's filters read (expiry, archived, read, seen) in the index
/// itself. The count (the badge every page load asks for) is then an index-only scan instead of a visit
/// to each of the subscriber's rows, which lie scattered over the history (measured on 10,000 of them:
/// 68 ms reading the rows cold, 2–3 ms from the index). Marking a message read changes an indexed column,
/// so that update is not HOT; it is one per user action, not per delivery.
///
/// Both databases take the same definition. On PostgreSQL the migration builds it on each partition
/// `CONCURRENTLY` first (``prepareEachPartition``), and creating it on the partitioned parent then adopts
/// those instead of building them under the parent's lock.
enum InboxIndex {
    static let name = "messages_inbox"
    static let columns = "subscriber_pk, id, expires_at, archived_at, read_at, seen_at"
    static let predicate = "channel = 'in_app' AND status = 'delivered'"

    static let create = "CREATE INDEX \(name) ON messages(\(columns)) WHERE \(predicate)"

    /// Only a history with messages needs the concurrent builds; on an empty one the parent's index is
    /// instant, and `CREATE INDEX CONCURRENTLY` would wait for every transaction open in the database.
    static let prepareNeeded = "SELECT EXISTS (SELECT 1 FROM messages)"

    /// PostgreSQL: the statements that build it on each partition of `messages` without blocking writes,
    /// each idempotent; one an interrupted build left invalid is dropped and built again.
    static let prepareEachPartition = """
        SELECT statement FROM (
            SELECT c.relname, 1 AS position, format('DROP INDEX CONCURRENTLY IF EXISTS %I', c.relname || '_inbox_cover') AS statement
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass('messages') AND EXISTS (
                SELECT 1 FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
                WHERE ic.relname = c.relname || '_inbox_cover' AND ic.relnamespace = c.relnamespace AND NOT x.indisvalid)
            UNION ALL
            SELECT c.relname, 2, format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I(\(columns)) WHERE \(predicate.replacingOccurrences(of: "'", with: "''"))', c.relname || '_inbox_cover', c.relname)
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = to_regclass('messages')
        ) s ORDER BY relname, position
        """
}
