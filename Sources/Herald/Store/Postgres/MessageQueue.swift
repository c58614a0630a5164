/// PostgreSQL's queue: the messages still to be sent, apart from the history (issue 23, docs/scaling.md).
///
/// A row is the work of one message: its id and partition key, its priority, when it is due, and the lease of
/// the node sending it. A trigger writes it as a queued message goes into the history (``create``); a claim leases
/// it (`lease_owner`, and `available_at` becomes the lease's end) and touches nothing in the history; the try's
/// outcome updates the history's row once and removes the row here, or hands it back due at the retry's time. So
/// the history's row of an email is written twice (planned, finished) instead of three times, and the claim walks
/// an index of a table that holds only the backlog instead of a partial index over every day's partition.
///
/// The history keeps `queued` until the outcome; reads show `sending` for a message whose row here is leased
/// (``statusColumn``), so the API reads as before. SQLite keeps its one table: its single writer gains nothing
/// from the split, and the store protocol hides which a store has.
enum MessageQueue {
    /// The migration that makes the queue.
    ///
    /// - The table and its two indexes. Every index costs each claim an entry, so there is none by event: a day's
    ///   drop finds the day's rows by a scan of the queue, once a day.
    /// - A statement-level trigger that writes the queue rows of the queued messages each insert into `messages`
    ///   puts in (one call per statement, whatever its rows). Being in the database, it also queues what a node
    ///   of an older version plans while the nodes are upgraded one by one: such a message is never left out.
    /// - The backlog moved in: `queued` and `sending` rows (a lease keeps its owner and end), the history's rows
    ///   set back to `queued`. Only a database's backlog, so quick at any size of history.
    /// - The history's lease column and queue indexes dropped. An older node's claim, completion and
    ///   cancellation name the column, so they fail rather than take a message the queue also hands out: until it
    ///   is upgraded such a node accepts triggers and serves reads, and delivers nothing. What it had in flight
    ///   when the migration ran is sent again once its lease ends (at least once, as after a crash).
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
        """
        CREATE FUNCTION herald_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO queue(message_id, event_pk, priority, available_at)
            SELECT id, event_pk, priority, available_at FROM inserted WHERE status = 'queued';
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER messages_enqueue AFTER INSERT ON messages REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT EXECUTE FUNCTION herald_enqueue()
        """,
        """
        INSERT INTO queue(message_id, event_pk, priority, available_at, lease_owner, attempts)
        SELECT id, event_pk, priority, available_at, CASE WHEN status = 'sending' THEN lease_owner END, attempts
        FROM messages WHERE status IN ('queued', 'sending')
        """,
        "UPDATE messages SET status = 'queued' WHERE status = 'sending'",
        "DROP INDEX IF EXISTS messages_queue",
        "DROP INDEX IF EXISTS messages_leases",
        "ALTER TABLE messages DROP COLUMN lease_owner",
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
