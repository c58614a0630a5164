/// Herald's schema, as one list of migrations for both stores, in order. Never edit a shipped migration;
/// add a new one. Each statement is written once in the SQL the two databases share, with the few
/// types they spell differently as tokens ``SQLDialect/schema(_:)`` fills in: `{id}` (an integer key the
/// database assigns), `{int}` (64-bit integers: row references, times in milliseconds since 1970),
/// `{bool}`, `{true}`, `{false}`, `{real}`, and `{without_rowid}` (a SQLite storage choice for tables
/// keyed by their primary key). SQLite records applied migrations in `grdb_migrations`, PostgreSQL in
/// `herald_migrations`, both by these identifiers.
///
/// Ids visible to users are text; joins use integer rows. In SQLite's messages, rows in `queued` or
/// `sending` are work: `available_at` is when a queued row is due, or when a sending row's lease runs out
/// and anyone may reclaim it. PostgreSQL keeps the same in a narrow `queue` table (``MessageQueue``).
enum Schema {
    struct Migration: Sendable {
        var identifier: String
        var statements: [String]
        /// Statements one database needs before the shared ones (a table SQLite must rebuild where
        /// PostgreSQL alters it in place).
        var sqlite: [String] = []
        var postgres: [String] = []
        /// PostgreSQL statements that run before the migration's transaction, outside any, each one
        /// idempotent: work on a large table that must not block writes (`CREATE INDEX CONCURRENTLY`,
        /// validating a constraint added `NOT VALID`).
        var postgresPrepare: [String] = []
        /// A query answering one boolean: whether `postgresPrepare` is needed at all (nil: always).
        var postgresPrepareNeeded: String?
        /// A query whose rows (one text column) are more preparation statements, run after
        /// `postgresPrepare` the same way: work per partition, which a fixed list cannot name.
        var postgresPrepareEach: String?

        var needsPreparation: Bool { !postgresPrepare.isEmpty || postgresPrepareEach != nil }

        /// What runs on `dialect`, in order.
        func statements(in dialect: SQLDialect) -> [String] {
            (dialect == .sqlite ? sqlite : postgres) + statements
        }
    }

    static let migrations: [Migration] = [
        Migration(identifier: "v1-initial", statements: initialSchema),
        Migration(
            identifier: "v2-email",
            statements: [
                """
                CREATE TABLE tenant_settings (
                    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    updated_at {int} NOT NULL,
                    PRIMARY KEY (tenant_id, key)
                ){without_rowid}
                """,
                "ALTER TABLE preferences ADD COLUMN unsubscribed {bool} NOT NULL DEFAULT {false}",
            ]),
        Migration(identifier: "v4-quiet-hours", statements: ["ALTER TABLE subscribers ADD COLUMN quiet_hours TEXT"]),
        Migration(
            identifier: "v4-console-sessions",
            statements: [
                """
                CREATE TABLE console_sessions (
                    id_hash TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    api_key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
                    csrf_token TEXT NOT NULL,
                    created_at {int} NOT NULL,
                    expires_at {int} NOT NULL
                ){without_rowid}
                """,
                "CREATE INDEX console_sessions_expiry ON console_sessions(expires_at)",
            ]),
        Migration(
            identifier: "v5-status-webhooks",
            statements: [
                """
                CREATE TABLE status_webhooks (
                    id {id},
                    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    url TEXT NOT NULL,
                    webhook_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    body TEXT NOT NULL,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    available_at {int} NOT NULL,
                    lease_owner TEXT,
                    last_error TEXT,
                    created_at {int} NOT NULL,
                    updated_at {int} NOT NULL
                )
                """,
                "CREATE INDEX status_webhooks_due ON status_webhooks(available_at) WHERE status IN ('pending', 'sending')",
                "CREATE INDEX status_webhooks_tenant ON status_webhooks(tenant_id, url, status)",
                "CREATE INDEX status_webhooks_finished ON status_webhooks(updated_at) WHERE status IN ('delivered', 'failed')",
            ]),
        Migration(
            identifier: "v6-flow-control",
            statements: [
                "ALTER TABLE messages ADD COLUMN digest_id {int}",
                "ALTER TABLE messages ADD COLUMN related_id {int}",
                "CREATE INDEX messages_digest ON messages(digest_id) WHERE digest_id IS NOT NULL",
                "ALTER TABLE events ADD COLUMN cancellation_key TEXT",
                "CREATE INDEX events_cancellation ON events(tenant_id, cancellation_key) WHERE cancellation_key IS NOT NULL",
                """
                CREATE TABLE dedup_keys (
                    subscriber_pk {int} NOT NULL REFERENCES subscribers(pk) ON DELETE CASCADE,
                    event_type TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    message_id {int} NOT NULL,
                    expires_at {int} NOT NULL,
                    PRIMARY KEY (subscriber_pk, event_type, channel, fingerprint)
                ){without_rowid}
                """,
                "CREATE INDEX dedup_keys_expiry ON dedup_keys(expires_at)",
                "CREATE TABLE rate_buckets (key TEXT PRIMARY KEY, tokens {real} NOT NULL, updated_at {int} NOT NULL){without_rowid}",
                "CREATE INDEX rate_buckets_age ON rate_buckets(updated_at)",
                """
                CREATE TABLE digests (
                    id {id},
                    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    subscriber_pk {int} NOT NULL REFERENCES subscribers(pk) ON DELETE CASCADE,
                    event_type TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    digest_key TEXT NOT NULL,
                    status TEXT NOT NULL,
                    message_id {int},
                    flush_at {int} NOT NULL,
                    created_at {int} NOT NULL,
                    closed_at {int}
                )
                """,
                "CREATE UNIQUE INDEX digests_open ON digests(subscriber_pk, event_type, channel, digest_key) WHERE status = 'open'",
                "CREATE INDEX digests_closed ON digests(closed_at) WHERE status = 'closed'",
                """
                CREATE TABLE schedules (
                    pk {id},
                    id TEXT NOT NULL UNIQUE,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    name TEXT,
                    cron TEXT NOT NULL,
                    timezone TEXT NOT NULL,
                    trigger TEXT NOT NULL,
                    enabled {bool} NOT NULL DEFAULT {true},
                    next_run_at {int} NOT NULL,
                    last_run_at {int},
                    last_event_id TEXT,
                    last_error TEXT,
                    runs INTEGER NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    lease_until {int},
                    created_at {int} NOT NULL,
                    updated_at {int} NOT NULL
                )
                """,
                "CREATE INDEX schedules_due ON schedules(next_run_at) WHERE enabled = {true}",
                "CREATE INDEX schedules_tenant ON schedules(tenant_id, pk)",
            ]),
        Migration(identifier: "v6-digest-preferences", statements: ["ALTER TABLE preferences ADD COLUMN digest TEXT"]),
        Migration(
            identifier: "v7-lease-index",
            statements: ["CREATE INDEX messages_leases ON messages(priority, available_at) WHERE status = 'sending'"]),
        Migration(
            identifier: "v8-email-feedback",
            statements: [
                // A lifted entry keeps its row (lifted_at set), so soft bounces before the lift stop counting.
                """
                CREATE TABLE suppressions (
                    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    address TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    message_id {int},
                    detail TEXT,
                    created_at {int} NOT NULL,
                    lifted_at {int},
                    PRIMARY KEY (tenant_id, address)
                ){without_rowid}
                """,
                """
                CREATE TABLE email_feedback (
                    id {id},
                    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    message_id {int} NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
                    address TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    status TEXT,
                    detail TEXT,
                    created_at {int} NOT NULL
                )
                """,
                "CREATE INDEX email_feedback_message ON email_feedback(message_id)",
                "CREATE INDEX email_feedback_address ON email_feedback(tenant_id, address, created_at)",
                "CREATE INDEX email_feedback_tenant ON email_feedback(tenant_id, created_at)",
            ]),
        Migration(
            identifier: "v9-push-devices",
            statements: [
                // `address` is the APNs or FCM token, or the Web Push endpoint: what the provider knows the device by.
                """
                CREATE TABLE push_devices (
                    pk {id},
                    id TEXT NOT NULL UNIQUE,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
                    subscriber_pk {int} NOT NULL REFERENCES subscribers(pk) ON DELETE CASCADE,
                    platform TEXT NOT NULL,
                    address TEXT NOT NULL,
                    p256dh TEXT,
                    auth TEXT,
                    app_id TEXT,
                    environment TEXT,
                    locale TEXT,
                    active {bool} NOT NULL DEFAULT {true},
                    deactivated_reason TEXT,
                    deactivated_at {int},
                    last_seen_at {int} NOT NULL,
                    created_at {int} NOT NULL,
                    UNIQUE (tenant_id, platform, address)
                )
                """,
                "CREATE INDEX push_devices_subscriber ON push_devices(subscriber_pk) WHERE active = {true}",
            ]),
        Migration(
            identifier: "v10-workflows",
            statements: [
                // One row per recipient of an event whose type has a workflow. `available_at` is when it is next
                // due (the end of a wait), or, under a lease, when the lease runs out; `steps` is the timeline.
                """
                CREATE TABLE workflow_runs (
                    id {id},
                    tenant_id TEXT NOT NULL,
                    event_pk {int} NOT NULL REFERENCES events(pk) ON DELETE CASCADE,
                    subscriber_pk {int} NOT NULL,
                    priority INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    step INTEGER NOT NULL DEFAULT 0,
                    steps TEXT NOT NULL DEFAULT '[]',
                    wake_on TEXT,
                    outcome TEXT,
                    available_at {int} NOT NULL,
                    lease_owner TEXT,
                    created_at {int} NOT NULL,
                    updated_at {int} NOT NULL,
                    expires_at {int} NOT NULL,
                    UNIQUE (event_pk, subscriber_pk)
                )
                """,
                "CREATE INDEX workflow_runs_due ON workflow_runs(priority, available_at) WHERE status IN ('active', 'waiting', 'sending')",
                "CREATE INDEX workflow_runs_subscriber ON workflow_runs(subscriber_pk) WHERE status IN ('waiting', 'sending')",
            ],
            // A workflow may send on a channel twice (email, then email or SMS), so a message is unique per step
            // too: `step` is the workflow step from 1, 0 for a message of an event type without a workflow.
            sqlite: messagesRebuild,
            postgres: [
                "ALTER TABLE messages ADD COLUMN step INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE messages ADD COLUMN clicked_at BIGINT",
                "ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_event_pk_subscriber_pk_channel_key",
                "CREATE UNIQUE INDEX messages_recipient ON messages(event_pk, subscriber_pk, channel, step)",
            ]),
        Migration(
            identifier: "v11-email-tracking-attachments",
            statements: [
                // Open and click tracking of email (`clicked_at`, from v10, is also set by an inbox click).
                "ALTER TABLE messages ADD COLUMN opened_at {int}",
                "ALTER TABLE messages ADD COLUMN open_count INTEGER NOT NULL DEFAULT 0",
                "ALTER TABLE messages ADD COLUMN click_count INTEGER NOT NULL DEFAULT 0",
                // A trigger's attachments, kept with the event so every retry of every recipient sends the same
                // bytes; `content` is the file in base64 (the one text type both databases store alike).
                """
                CREATE TABLE event_attachments (
                    event_pk {int} NOT NULL REFERENCES events(pk) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    filename TEXT NOT NULL,
                    content_type TEXT NOT NULL,
                    size {int} NOT NULL,
                    content TEXT NOT NULL,
                    PRIMARY KEY (event_pk, position)
                )
                """,
            ]),
        // PostgreSQL's history by day (PartitionedHistory); SQLite keeps one table of each, expired by DELETE.
        Migration(
            identifier: "v12-partitioned-history", statements: [], postgres: PartitionedHistory.swap,
            postgresPrepare: PartitionedHistory.prepare, postgresPrepareNeeded: PartitionedHistory.prepareNeeded),
        // The inbox index covers what the count and the filters read (HistoryIndex.inbox), so neither visits the rows.
        Migration(
            identifier: "v13-inbox-covering-index", statements: ["DROP INDEX messages_inbox", HistoryIndex.inbox.create],
            postgresPrepareNeeded: HistoryIndex.prepareNeeded, postgresPrepareEach: HistoryIndex.inbox.prepareEachPartition),
        // A successful try is held by its message's row (its answer and duration, beside `sent_at`), not by an
        // attempt row: one write less per delivered message. Failures still get attempt rows.
        Migration(
            identifier: "v14-success-on-message",
            statements: [
                "ALTER TABLE messages ADD COLUMN sent_detail TEXT", "ALTER TABLE messages ADD COLUMN sent_started_at {int}",
                "ALTER TABLE messages ADD COLUMN sent_duration_ms {real}",
            ]),
        // PostgreSQL's tenant index is keyed by a hash of the tenant id, not the text (HistoryIndex.tenant).
        Migration(
            identifier: "v15-compact-tenant-key", statements: [], postgres: ["DROP INDEX messages_tenant", HistoryIndex.tenant.create],
            postgresPrepareNeeded: HistoryIndex.prepareNeeded, postgresPrepareEach: HistoryIndex.tenant.prepareEachPartition),
        // PostgreSQL's work to be sent moves to a narrow table apart from the history (MessageQueue); SQLite keeps one table.
        Migration(identifier: "v16-narrow-queue", statements: [], postgres: MessageQueue.create),
    ]

    /// SQLite cannot drop a table's UNIQUE constraint: the messages table is copied into one with the new
    /// key and the two new columns, as SQLite's documentation prescribes (foreign keys are off while GRDB
    /// migrates, and checked before it commits).
    static let messagesRebuild = [
        """
        CREATE TABLE messages_v10 (
            id INTEGER PRIMARY KEY,
            tenant_id TEXT NOT NULL,
            event_pk INTEGER NOT NULL REFERENCES events(pk) ON DELETE CASCADE,
            subscriber_pk INTEGER NOT NULL,
            channel TEXT NOT NULL,
            priority INTEGER NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            available_at INTEGER NOT NULL,
            lease_owner TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            sent_at INTEGER,
            expires_at INTEGER NOT NULL,
            title TEXT,
            body TEXT,
            action_url TEXT,
            seen_at INTEGER,
            read_at INTEGER,
            archived_at INTEGER,
            digest_id INTEGER,
            related_id INTEGER,
            step INTEGER NOT NULL DEFAULT 0,
            clicked_at INTEGER,
            UNIQUE (event_pk, subscriber_pk, channel, step)
        )
        """,
        """
        INSERT INTO messages_v10(id, tenant_id, event_pk, subscriber_pk, channel, priority, status, reason, available_at, lease_owner,
            attempts, last_error, created_at, updated_at, sent_at, expires_at, title, body, action_url, seen_at, read_at, archived_at,
            digest_id, related_id)
        SELECT id, tenant_id, event_pk, subscriber_pk, channel, priority, status, reason, available_at, lease_owner,
            attempts, last_error, created_at, updated_at, sent_at, expires_at, title, body, action_url, seen_at, read_at, archived_at,
            digest_id, related_id FROM messages
        """,
        "DROP TABLE messages",
        "ALTER TABLE messages_v10 RENAME TO messages",
        "CREATE INDEX messages_queue ON messages(priority, available_at) WHERE status IN ('queued', 'sending')",
        "CREATE INDEX messages_inbox ON messages(subscriber_pk, id) WHERE channel = 'in_app' AND status = 'delivered'",
        "CREATE INDEX messages_tenant ON messages(tenant_id, id)",
        "CREATE INDEX messages_subscriber ON messages(subscriber_pk, id)",
        "CREATE INDEX messages_expiry ON messages(expires_at)",
        "CREATE INDEX messages_digest ON messages(digest_id) WHERE digest_id IS NOT NULL",
        "CREATE INDEX messages_leases ON messages(priority, available_at) WHERE status = 'sending'",
    ]

    private static let initialSchema = [
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at {int} NOT NULL)",
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            name TEXT,
            created_at {int} NOT NULL,
            revoked_at {int}
        )
        """,
        "CREATE INDEX api_keys_tenant ON api_keys(tenant_id)",
        """
        CREATE TABLE event_types (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            definition TEXT,
            updated_at {int} NOT NULL,
            PRIMARY KEY (tenant_id, key)
        ){without_rowid}
        """,
        """
        CREATE TABLE subscribers (
            pk {id},
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            name TEXT,
            email TEXT,
            phone TEXT,
            locale TEXT,
            timezone TEXT,
            data TEXT,
            created_at {int} NOT NULL,
            updated_at {int} NOT NULL,
            UNIQUE (tenant_id, id)
        )
        """,
        """
        CREATE TABLE preferences (
            subscriber_pk {int} NOT NULL REFERENCES subscribers(pk) ON DELETE CASCADE,
            event_type TEXT NOT NULL,
            channel TEXT NOT NULL,
            enabled {bool} NOT NULL,
            PRIMARY KEY (subscriber_pk, event_type, channel)
        ){without_rowid}
        """,
        """
        CREATE TABLE tenant_preferences (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            event_type TEXT NOT NULL,
            channel TEXT NOT NULL,
            enabled {bool} NOT NULL,
            PRIMARY KEY (tenant_id, event_type, channel)
        ){without_rowid}
        """,
        """
        CREATE TABLE topics (
            pk {id},
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            name TEXT,
            created_at {int} NOT NULL,
            UNIQUE (tenant_id, key)
        )
        """,
        """
        CREATE TABLE topic_members (
            topic_pk {int} NOT NULL REFERENCES topics(pk) ON DELETE CASCADE,
            subscriber_pk {int} NOT NULL REFERENCES subscribers(pk) ON DELETE CASCADE,
            PRIMARY KEY (topic_pk, subscriber_pk)
        ){without_rowid}
        """,
        "CREATE INDEX topic_members_subscriber ON topic_members(subscriber_pk)",
        """
        CREATE TABLE events (
            pk {id},
            id TEXT NOT NULL UNIQUE,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            priority INTEGER NOT NULL,
            status TEXT NOT NULL,
            payload TEXT NOT NULL,
            plan TEXT NOT NULL,
            actor TEXT,
            created_at {int} NOT NULL,
            send_at {int},
            expires_at {int} NOT NULL
        )
        """,
        "CREATE INDEX events_expiry ON events(expires_at)",
        """
        CREATE TABLE messages (
            id {id},
            tenant_id TEXT NOT NULL,
            event_pk {int} NOT NULL REFERENCES events(pk) ON DELETE CASCADE,
            subscriber_pk {int} NOT NULL,
            channel TEXT NOT NULL,
            priority INTEGER NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            available_at {int} NOT NULL,
            lease_owner TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at {int} NOT NULL,
            updated_at {int} NOT NULL,
            sent_at {int},
            expires_at {int} NOT NULL,
            title TEXT,
            body TEXT,
            action_url TEXT,
            seen_at {int},
            read_at {int},
            archived_at {int},
            UNIQUE (event_pk, subscriber_pk, channel)
        )
        """,
        "CREATE INDEX messages_queue ON messages(priority, available_at) WHERE status IN ('queued', 'sending')",
        "CREATE INDEX messages_inbox ON messages(subscriber_pk, id) WHERE channel = 'in_app' AND status = 'delivered'",
        "CREATE INDEX messages_tenant ON messages(tenant_id, id)",
        "CREATE INDEX messages_subscriber ON messages(subscriber_pk, id)",
        "CREATE INDEX messages_expiry ON messages(expires_at)",
        """
        CREATE TABLE attempts (
            id {id},
            message_id {int} NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            started_at {int} NOT NULL,
            duration_ms {real} NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT
        )
        """,
        "CREATE INDEX attempts_message ON attempts(message_id)",
        """
        CREATE TABLE fanout_jobs (
            id {id},
            tenant_id TEXT NOT NULL,
            event_pk {int} NOT NULL REFERENCES events(pk) ON DELETE CASCADE,
            topic_pk {int} NOT NULL,
            cursor {int} NOT NULL DEFAULT 0,
            status TEXT NOT NULL,
            available_at {int} NOT NULL,
            lease_owner TEXT
        )
        """,
        "CREATE INDEX fanout_jobs_due ON fanout_jobs(available_at) WHERE status = 'pending'",
        "CREATE INDEX fanout_jobs_event ON fanout_jobs(event_pk)",
        """
        CREATE TABLE idempotency_keys (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at {int} NOT NULL,
            PRIMARY KEY (tenant_id, key)
        ){without_rowid}
        """,
        "CREATE INDEX idempotency_keys_age ON idempotency_keys(created_at)",
    ]
}
