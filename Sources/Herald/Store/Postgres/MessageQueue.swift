/// PostgreSQL's queue: the messages still to be sent, apart from the history (issue 23, docs/scaling.md).
///
/// A row is the work of one message: its id and partition key, its priority, when it is due, and the lease of
/// the node sending it. Planning writes it beside the history's row; a claim leases it (`lease_owner`, and
/// `available_at` becomes the lease's end) and touches nothing in the history; the try's outcome updates the
/// history's row once and removes the row here, or hands it back due at the retry's time. So the history's row
/// of an email is written twice (planned, finished) instead of three times, and the claim's scan walks a
/// table holding only the backlog instead of a partial index over a day's partitions.
///
/// The history keeps `queued` until the outcome; reads show `sending` for a message whose row here is leased
/// (``statusColumn``), so the API reads as before. SQLite keeps its one table: its single writer gains
/// nothing from the split, and the store protocol hides which a store has.
enum MessageQueue {
    /// The migration that makes the queue: the table and its two indexes, the work of the history's `queued`
    /// and `sending` rows moved in (a lease keeps its owner and end), and the history's queue indexes dropped.
    /// The moved rows are only a database's backlog, so this is quick at any size of history.
    static let create = [
        """
        CREATE TABLE queue (
            message_id BIGINT PRIMARY KEY,
            event_pk BIGINT NOT NULL,
            priority INTEGER NOT NULL,
            available_at BIGINT NOT NULL,
            lease_owner TEXT,
            attempts INTEGER NOT NULL DEFAULT 0
        )
        """,
        // The claim's order; expired leases are looked for first, in the small index of leased rows.
        "CREATE INDEX queue_due ON queue(priority, available_at)",
        "CREATE INDEX queue_leases ON queue(priority, available_at) WHERE lease_owner IS NOT NULL",
        // What a day's drop removes, by the day in the event key.
        "CREATE INDEX queue_event ON queue(event_pk)",
        """
        INSERT INTO queue(message_id, event_pk, priority, available_at, lease_owner, attempts)
        SELECT id, event_pk, priority, available_at, CASE WHEN status = 'sending' THEN lease_owner END, attempts
        FROM messages WHERE status IN ('queued', 'sending')
        """,
        "UPDATE messages SET status = 'queued', lease_owner = NULL WHERE status = 'sending'",
        "DROP INDEX IF EXISTS messages_queue",
        "DROP INDEX IF EXISTS messages_leases",
    ]

    /// A message's status as reads show it, for `messages m LEFT JOIN queue q ON q.message_id = m.id`.
    static let statusColumn = "CASE WHEN q.lease_owner IS NOT NULL THEN 'sending' ELSE m.status END"
    /// Its tries so far: a queued message's are counted on its queue row until its outcome is written.
    static let attemptsColumn = "coalesce(q.attempts, m.attempts)"
    /// When it is due, or when its lease ends.
    static let availableAtColumn = "coalesce(q.available_at, m.available_at)"
    /// The join the three columns above read.
    static let join = "LEFT JOIN queue q ON q.message_id = m.id"
}
