/// PostgreSQL's history (`events`, `messages`, `attempts`) partitioned by day, so that a day past its
/// retention goes with `DROP TABLE` instead of a `DELETE` of every row (as much write work again as
/// delivering them, plus vacuum).
///
/// **The day is in the key.** An event's `pk` is `day << 32 | n`, `day` being the database's UTC day
/// (days since 1970) when the event went in and `n` the low 32 bits of a sequence; `events` is
/// partitioned by range of `pk`, and `messages` and `attempts` by range of `event_pk`, one partition per
/// day (`[day << 32, (day + 1) << 32)`). Every message of an event is in its event's partition, even
/// when a fan-out chunk or a workflow step writes it days later, so the recipient key
/// `(event_pk, subscriber_pk, channel, step)` stays unique, as PostgreSQL requires of a partitioned
/// table (every unique index holds the partition key). Message ids stay one sequence; the partitioned
/// key is `(id, event_pk)`, led by `id` so a lookup by id is one probe of each partition's index.
///
/// **Partitions are made ahead** (today and the next three days) by ``ensure``, at every migration and
/// by the cleanup singleton each round; a write that still finds no partition makes them and runs again
/// (``PostgresStore/write(_:)``).
///
/// **An existing database migrates in place, online.** Rows already stored are not copied: each table
/// becomes the first partition of its new parent, `[MINVALUE, 2^32)` (every pk the old sequences gave
/// is below 2^32), and leaves by `DELETE` as it always did until it is empty. What takes time on a
/// large table runs before, outside any transaction and without blocking writes (``prepare``): the
/// range checks are added `NOT VALID` and validated (a scan under `SHARE UPDATE EXCLUSIVE`), and the one
/// index the new key needs is built `CONCURRENTLY`. The swap itself (``swap``) is catalog work under
/// brief exclusive locks: renames, the attach (the validated check spares its scan), and the parents'
/// indexes, which adopt the old tables' matching indexes instead of building them. Old attempt rows
/// have no `event_pk`; their table becomes the default partition of `attempts`.
///
/// **No foreign keys point into the history**: a partition cannot be dropped while one does, and
/// detaching would check every referencing row. What they cascaded to (attempts, email feedback, fan-out
/// jobs, workflow runs, attachments) is removed explicitly with the rows it belongs to.
enum PartitionedHistory {
    static let tables = ["events", "messages", "attempts"]

    /// 2^32: every key below it is from before the partitioning, in the `_legacy` partitions.
    static let legacyBound: Int64 = 1 << 32

    /// The partition of `table` for `day` (days since 1970, UTC): `messages_20261205`.
    static func partitionName(_ table: String, day: Int64) -> String {
        table + "_" + stamp(day: day)
    }

    /// The day a partition named by ``partitionName(_:day:)`` holds; nil for `_legacy` and anything else.
    static func day(ofPartition name: String, table: String) -> Int64? {
        guard name.hasPrefix(table + "_") else { return nil }
        return day(stamp: String(name.dropFirst(table.count + 1)))
    }

    /// `YYYYMMDD` of a day since 1970.
    static func stamp(day: Int64) -> String {
        let date = CivilDate(daysSince1970: day)
        let text = String(date.year * 10_000 + date.month * 100 + date.day)
        return String(repeating: "0", count: max(0, 8 - text.count)) + text
    }

    /// The day since 1970 of a `YYYYMMDD` stamp; nil unless it is eight digits naming a real date.
    static func day(stamp: String) -> Int64? {
        guard stamp.utf8.count == 8, stamp.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let value = Int64(stamp) else { return nil }
        return CivilDate(year: value / 10_000, month: value / 100 % 100, day: value % 100).daysSince1970
    }

    /// The day partitions in the schema that a drop left half done: detached and not yet dropped, or
    /// still `detach pending` (name, parent or null, pending); see ``PostgresStore``'s retention.
    static let interruptedDrops = """
        SELECT c.relname::text, p.relname::text, coalesce(i.inhdetachpending, false)
        FROM pg_class c
        LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
        LEFT JOIN pg_class p ON p.oid = i.inhparent
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
        AND c.relname ~ '^(events|messages|attempts)_[0-9]{8}$' AND (i.inhrelid IS NULL OR i.inhdetachpending)
        """

    /// The database's UTC day, as SQL: the one clock every node shares.
    static let today = "floor(extract(epoch FROM now()) / 86400)::bigint"

    /// Runs outside a transaction before ``swap``, each statement idempotent, while the node (and the
    /// others) keep writing: the slow parts of the migration on a large table.
    static let prepare = [
        // One table per statement: each takes its table's exclusive lock for a moment, alone, so it cannot
        // deadlock with the transactions of running nodes (the caller retries one that times out or loses).
        """
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'events'::regclass AND conname = 'events_legacy_range') THEN
                ALTER TABLE events ADD CONSTRAINT events_legacy_range CHECK (pk < 4294967296) NOT VALID;
            END IF;
        END $$
        """,
        """
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'messages'::regclass AND conname = 'messages_legacy_range') THEN
                ALTER TABLE messages ADD CONSTRAINT messages_legacy_range CHECK (event_pk < 4294967296) NOT VALID;
            END IF;
        END $$
        """,
        """
        DO $$ BEGIN
            ALTER TABLE attempts ADD COLUMN IF NOT EXISTS event_pk BIGINT;
            IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'attempts'::regclass AND conname = 'attempts_legacy_range') THEN
                ALTER TABLE attempts ADD CONSTRAINT attempts_legacy_range CHECK (event_pk IS NULL OR event_pk < 4294967296) NOT VALID;
            END IF;
        END $$
        """,
        // What an interrupted concurrent build leaves is an invalid index: build it again.
        """
        DO $$
        DECLARE leftover record;
        BEGIN
            FOR leftover IN
                SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
                WHERE NOT x.indisvalid AND c.relnamespace = current_schema()::regnamespace
                AND c.relname IN ('messages_id_event_legacy', 'events_id_legacy')
            LOOP
                EXECUTE format('DROP INDEX %I', leftover.relname);
            END LOOP;
        END $$
        """,
        "ALTER TABLE events VALIDATE CONSTRAINT events_legacy_range",
        "ALTER TABLE messages VALIDATE CONSTRAINT messages_legacy_range",
        "ALTER TABLE attempts VALIDATE CONSTRAINT attempts_legacy_range",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS messages_id_event_legacy ON messages(id, event_pk)",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS events_id_legacy ON events(id)",
    ]

    /// Whether ``prepare`` is worth running: only when the history holds rows. On an empty one (a new
    /// database) everything is instant inside the swap, and `CREATE INDEX CONCURRENTLY` would wait for
    /// every transaction open anywhere in the database.
    static let prepareNeeded = "SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM attempts)"

    /// The migration's transaction: the old tables become the first partitions of new parents.
    static let swap = [
        // Every lock the swap needs, at once and first, so it does not hold one table while a running node's
        // transaction holds the next; waited for at most 5 s, then the whole migration runs again.
        "SET LOCAL lock_timeout = '5s'",
        "LOCK TABLE events, messages, attempts, fanout_jobs, workflow_runs, event_attachments, email_feedback IN ACCESS EXCLUSIVE MODE",
        // What ``prepare`` does, where it did not run (an empty history): instant on empty tables.
        """
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'events'::regclass AND conname = 'events_legacy_range') THEN
                ALTER TABLE events ADD CONSTRAINT events_legacy_range CHECK (pk < 4294967296);
            END IF;
            IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'messages'::regclass AND conname = 'messages_legacy_range') THEN
                ALTER TABLE messages ADD CONSTRAINT messages_legacy_range CHECK (event_pk < 4294967296);
            END IF;
            ALTER TABLE attempts ADD COLUMN IF NOT EXISTS event_pk BIGINT;
            IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'attempts'::regclass AND conname = 'attempts_legacy_range') THEN
                ALTER TABLE attempts ADD CONSTRAINT attempts_legacy_range CHECK (event_pk IS NULL OR event_pk < 4294967296);
            END IF;
        END $$
        """,
        // Foreign keys into the history go (see the type's comment); so do the history's own, into itself.
        """
        DO $$
        DECLARE fk record;
        BEGIN
            FOR fk IN
                SELECT conrelid::regclass::text AS tbl, conname FROM pg_constraint
                WHERE contype = 'f' AND confrelid IN ('events'::regclass, 'messages'::regclass)
            LOOP
                EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
            END LOOP;
        END $$
        """,
        "ALTER TABLE events RENAME TO events_legacy",
        "ALTER TABLE messages RENAME TO messages_legacy",
        "ALTER TABLE attempts RENAME TO attempts_legacy",
        // The old tables' indexes make way for the parents' names; the parents adopt them below.
        """
        DO $$
        DECLARE ix record;
        BEGIN
            FOR ix IN
                SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
                WHERE x.indrelid IN ('events_legacy'::regclass, 'messages_legacy'::regclass, 'attempts_legacy'::regclass)
                AND c.relname NOT LIKE '%\\_legacy'
            LOOP
                EXECUTE format('ALTER INDEX %I RENAME TO %I', ix.relname, left(ix.relname, 55) || '_legacy');
            END LOOP;
        END $$
        """,
        // The keys' sequences outlive the old tables: each identity becomes a plain sequence of the
        // parent, continuing where the identity stopped.
        """
        DO $$
        DECLARE key record; last bigint;
        BEGIN
            FOR key IN SELECT * FROM (VALUES ('events', 'pk'), ('messages', 'id'), ('attempts', 'id')) AS k(tbl, col) LOOP
                EXECUTE format('SELECT pg_sequence_last_value(pg_get_serial_sequence(%L, %L)::regclass)', key.tbl || '_legacy', key.col)
                    INTO last;
                EXECUTE format('ALTER TABLE %I ALTER COLUMN %I DROP IDENTITY', key.tbl || '_legacy', key.col);
                EXECUTE format('CREATE SEQUENCE %I', key.tbl || '_' || key.col || '_seq');
                IF last IS NOT NULL THEN
                    PERFORM setval(key.tbl || '_' || key.col || '_seq', last);
                END IF;
            END LOOP;
        END $$
        """,
        "CREATE TABLE events (LIKE events_legacy INCLUDING DEFAULTS) PARTITION BY RANGE (pk)",
        "ALTER SEQUENCE events_pk_seq OWNED BY events.pk",
        "ALTER TABLE events ALTER COLUMN pk SET DEFAULT (\(today) << 32) | (nextval('events_pk_seq') & 4294967295)",
        "ALTER TABLE events ATTACH PARTITION events_legacy FOR VALUES FROM (MINVALUE) TO (4294967296)",
        "ALTER TABLE events ADD PRIMARY KEY (pk)",
        // Public event ids are random; a unique index would need the partition key in it.
        "CREATE INDEX events_id ON events(id)",
        "CREATE INDEX events_expiry ON events(expires_at)",
        "CREATE INDEX events_cancellation ON events(tenant_id, cancellation_key) WHERE cancellation_key IS NOT NULL",

        "CREATE TABLE messages (LIKE messages_legacy INCLUDING DEFAULTS) PARTITION BY RANGE (event_pk)",
        "ALTER SEQUENCE messages_id_seq OWNED BY messages.id",
        "ALTER TABLE messages ALTER COLUMN id SET DEFAULT nextval('messages_id_seq')",
        "ALTER TABLE messages ATTACH PARTITION messages_legacy FOR VALUES FROM (MINVALUE) TO (4294967296)",
        "CREATE UNIQUE INDEX messages_key ON messages(id, event_pk)",
        "CREATE UNIQUE INDEX messages_recipient ON messages(event_pk, subscriber_pk, channel, step)",
        "CREATE INDEX messages_queue ON messages(priority, available_at) WHERE status IN ('queued', 'sending')",
        "CREATE INDEX messages_leases ON messages(priority, available_at) WHERE status = 'sending'",
        "CREATE INDEX messages_inbox ON messages(subscriber_pk, id) WHERE channel = 'in_app' AND status = 'delivered'",
        "CREATE INDEX messages_tenant ON messages(tenant_id, id)",
        "CREATE INDEX messages_subscriber ON messages(subscriber_pk, id)",
        "CREATE INDEX messages_expiry ON messages(expires_at)",
        "CREATE INDEX messages_digest ON messages(digest_id) WHERE digest_id IS NOT NULL",

        "CREATE TABLE attempts (LIKE attempts_legacy INCLUDING DEFAULTS) PARTITION BY RANGE (event_pk)",
        "ALTER SEQUENCE attempts_id_seq OWNED BY attempts.id",
        "ALTER TABLE attempts ALTER COLUMN id SET DEFAULT nextval('attempts_id_seq')",
        "ALTER TABLE attempts ATTACH PARTITION attempts_legacy DEFAULT",
        "CREATE INDEX attempts_message ON attempts(message_id)",

        // Creates the missing partitions of the three tables for the days `first_day` to `last_day`.
        """
        CREATE FUNCTION herald_ensure_history_partitions(first_day bigint, last_day bigint) RETURNS integer LANGUAGE plpgsql AS $$
        DECLARE day bigint; parent text; name text; made integer := 0;
        BEGIN
            FOR day IN first_day .. last_day LOOP
                FOREACH parent IN ARRAY ARRAY['events', 'messages', 'attempts'] LOOP
                    name := parent || '_' || to_char(date '1970-01-01' + day::integer, 'YYYYMMDD');
                    IF to_regclass(quote_ident(name)) IS NULL THEN
                        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)', name, parent, day::bigint << 32, (day::bigint + 1) << 32);
                        made := made + 1;
                    END IF;
                END LOOP;
            END LOOP;
            RETURN made;
        END $$
        """,
        // Today's partitions exist when the swap commits: a node still running the previous version writes on at once.
        "SELECT herald_ensure_history_partitions(\(today), \(today) + 3)",
    ]

    /// Makes the partitions of today and the next three days that are missing, one node at a time.
    static let ensure = [
        "SELECT pg_advisory_xact_lock(hashtext('partitions:' || current_schema()))",
        "SELECT herald_ensure_history_partitions(\(today), \(today) + 3)",
    ]
}
