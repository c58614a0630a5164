import GRDB

extension SQLiteStore {
    /// Schema migrations, in order. Never edit a shipped migration; add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-initial") { db in
            try db.execute(sql: initialSchema)
        }
        migrator.registerMigration("v2-email") { db in
            try db.execute(sql: emailSchema)
        }
        migrator.registerMigration("v4-quiet-hours") { db in
            try db.execute(sql: "ALTER TABLE subscribers ADD COLUMN quiet_hours TEXT")  // JSON QuietHours, NULL for none
        }
        migrator.registerMigration("v4-console-sessions") { db in
            try db.execute(sql: consoleSessionSchema)
        }
        migrator.registerMigration("v5-status-webhooks") { db in
            try db.execute(sql: statusWebhookSchema)
        }
        migrator.registerMigration("v6-flow-control") { db in
            try db.execute(sql: flowControlSchema)
        }
        migrator.registerMigration("v6-digest-preferences") { db in
            // JSON DigestSpec: the subscriber asks for a digest instead of immediate delivery (low priority only).
            try db.execute(sql: "ALTER TABLE preferences ADD COLUMN digest TEXT")
        }
        migrator.registerMigration("v7-lease-index") { db in
            // The claimed messages alone, by lease expiry: claims look here first, so work a dead node held is
            // taken over when its lease ends, not after every message queued before that moment.
            try db.execute(sql: "CREATE INDEX messages_leases ON messages(priority, available_at) WHERE status = 'sending'")
        }
        return migrator
    }

    /// What flow control keeps between plannings: which message first carried an event (dedup), the
    /// token buckets of rate limits, digests being collected, and recurring schedules. A message merged
    /// into a digest, or suppressed as a duplicate, points at the message that went instead (`related_id`).
    private static let flowControlSchema = """
        ALTER TABLE messages ADD COLUMN digest_id INTEGER;
        ALTER TABLE messages ADD COLUMN related_id INTEGER;
        CREATE INDEX messages_digest ON messages(digest_id) WHERE digest_id IS NOT NULL;

        ALTER TABLE events ADD COLUMN cancellation_key TEXT;
        CREATE INDEX events_cancellation ON events(tenant_id, cancellation_key) WHERE cancellation_key IS NOT NULL;

        CREATE TABLE dedup_keys (
            subscriber_pk INTEGER NOT NULL REFERENCES subscribers(pk) ON DELETE CASCADE,
            event_type TEXT NOT NULL,
            channel TEXT NOT NULL,
            fingerprint TEXT NOT NULL,    -- SHA-256 of the compared payload fields
            message_id INTEGER NOT NULL,  -- the original
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (subscriber_pk, event_type, channel, fingerprint)
        ) WITHOUT ROWID;
        CREATE INDEX dedup_keys_expiry ON dedup_keys(expires_at);

        CREATE TABLE rate_buckets (
            key TEXT PRIMARY KEY,         -- s:<subscriber>:<channel>, se:<subscriber>:<type>:<channel>, c:<tenant>:<channel>, t:<tenant>
            tokens REAL NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX rate_buckets_age ON rate_buckets(updated_at);

        -- One row per digest being collected (open) or sent (closed). At most one open digest per
        -- subscriber, event type, channel and digest key; its message goes out at flush_at.
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            subscriber_pk INTEGER NOT NULL REFERENCES subscribers(pk) ON DELETE CASCADE,
            event_type TEXT NOT NULL,
            channel TEXT NOT NULL,
            digest_key TEXT NOT NULL,
            status TEXT NOT NULL,         -- open, closed
            message_id INTEGER,
            flush_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            closed_at INTEGER
        );
        CREATE UNIQUE INDEX digests_open ON digests(subscriber_pk, event_type, channel, digest_key) WHERE status = 'open';
        CREATE INDEX digests_closed ON digests(closed_at) WHERE status = 'closed';

        -- Recurring triggers. next_run_at is the next occurrence not yet run; a run holds a lease so that
        -- one node runs it, and its event is accepted under the idempotency key schedule:<id>:<occurrence>,
        -- so even a run repeated after a crash makes one event.
        CREATE TABLE schedules (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            name TEXT,
            cron TEXT NOT NULL,
            timezone TEXT NOT NULL,
            trigger TEXT NOT NULL,        -- JSON: type, recipients, payload, actor
            enabled INTEGER NOT NULL DEFAULT 1,
            next_run_at INTEGER NOT NULL,
            last_run_at INTEGER,
            last_event_id TEXT,
            last_error TEXT,
            runs INTEGER NOT NULL DEFAULT 0,
            lease_owner TEXT,
            lease_until INTEGER,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX schedules_due ON schedules(next_run_at) WHERE enabled = 1;
        CREATE INDEX schedules_tenant ON schedules(tenant_id, pk);
        """

    /// Sessions of the admin console, in the database so every node behind a load balancer knows them.
    /// The cookie's value is never stored, only its SHA-256; a session ends with its key's revocation.
    private static let consoleSessionSchema = """
        CREATE TABLE console_sessions (
            id_hash TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            api_key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
            csrf_token TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX console_sessions_expiry ON console_sessions(expires_at);
        """

    /// The durable queue of delivery-status webhooks: one row per status event and endpoint, written after
    /// the message's outcome commits and deleted some days after it is delivered or given up. Like the
    /// message table, `available_at` is when a pending row is due, or when a claimed row's lease runs out.
    private static let statusWebhookSchema = """
        CREATE TABLE status_webhooks (
            id INTEGER PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            url TEXT NOT NULL,
            webhook_id TEXT NOT NULL,
            type TEXT NOT NULL,
            body TEXT NOT NULL,           -- the JSON envelope, exactly as sent on every try
            status TEXT NOT NULL,         -- pending, sending, delivered, failed
            attempts INTEGER NOT NULL DEFAULT 0,
            available_at INTEGER NOT NULL,
            lease_owner TEXT,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX status_webhooks_due ON status_webhooks(available_at) WHERE status IN ('pending', 'sending');
        CREATE INDEX status_webhooks_tenant ON status_webhooks(tenant_id, url, status);
        CREATE INDEX status_webhooks_finished ON status_webhooks(updated_at) WHERE status IN ('delivered', 'failed');
        """

    /// Per-tenant settings documents (email sender, layout, recipient rules), and a mark on preference
    /// rules that came from an unsubscribe link, so the messages they stop say `unsubscribed`.
    private static let emailSchema = """
        CREATE TABLE tenant_settings (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,          -- JSON
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, key)
        ) WITHOUT ROWID;

        ALTER TABLE preferences ADD COLUMN unsubscribed INTEGER NOT NULL DEFAULT 0;
        """

    /// Times are integer milliseconds since 1970; ids visible to users are text, internal joins use integer rows.
    private static let initialSchema = """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );

        CREATE TABLE tenants (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );

        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            hash TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            name TEXT,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE INDEX api_keys_tenant ON api_keys(tenant_id);

        CREATE TABLE event_types (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            definition TEXT,              -- JSON; NULL is a tombstone hiding a file-defined type
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, key)
        ) WITHOUT ROWID;

        CREATE TABLE subscribers (
            pk INTEGER PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            name TEXT,
            email TEXT,
            phone TEXT,
            locale TEXT,
            timezone TEXT,
            data TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (tenant_id, id)
        );

        CREATE TABLE preferences (
            subscriber_pk INTEGER NOT NULL REFERENCES subscribers(pk) ON DELETE CASCADE,
            event_type TEXT NOT NULL,     -- or '*'
            channel TEXT NOT NULL,        -- or '*'
            enabled INTEGER NOT NULL,
            PRIMARY KEY (subscriber_pk, event_type, channel)
        ) WITHOUT ROWID;

        CREATE TABLE tenant_preferences (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            event_type TEXT NOT NULL,
            channel TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, event_type, channel)
        ) WITHOUT ROWID;

        CREATE TABLE topics (
            pk INTEGER PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            name TEXT,
            created_at INTEGER NOT NULL,
            UNIQUE (tenant_id, key)
        );

        CREATE TABLE topic_members (
            topic_pk INTEGER NOT NULL REFERENCES topics(pk) ON DELETE CASCADE,
            subscriber_pk INTEGER NOT NULL REFERENCES subscribers(pk) ON DELETE CASCADE,
            PRIMARY KEY (topic_pk, subscriber_pk)
        ) WITHOUT ROWID;
        CREATE INDEX topic_members_subscriber ON topic_members(subscriber_pk);

        CREATE TABLE events (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            priority INTEGER NOT NULL,
            status TEXT NOT NULL,
            payload TEXT NOT NULL,
            plan TEXT NOT NULL,           -- the event type as planned: priority, channels, defaults (no templates)
            actor TEXT,
            created_at INTEGER NOT NULL,
            send_at INTEGER,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX events_expiry ON events(expires_at);

        -- The queue. Rows in 'queued' or 'sending' are work; available_at is when a queued row is due,
        -- or when a sending row's lease runs out and anyone may reclaim it.
        CREATE TABLE messages (
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
            UNIQUE (event_pk, subscriber_pk, channel)
        );
        CREATE INDEX messages_queue ON messages(priority, available_at) WHERE status IN ('queued', 'sending');
        CREATE INDEX messages_inbox ON messages(subscriber_pk, id) WHERE channel = 'in_app' AND status = 'delivered';
        CREATE INDEX messages_tenant ON messages(tenant_id, id);
        CREATE INDEX messages_subscriber ON messages(subscriber_pk, id);
        CREATE INDEX messages_expiry ON messages(expires_at);

        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            duration_ms REAL NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT
        );
        CREATE INDEX attempts_message ON attempts(message_id);

        CREATE TABLE fanout_jobs (
            id INTEGER PRIMARY KEY,
            tenant_id TEXT NOT NULL,
            event_pk INTEGER NOT NULL REFERENCES events(pk) ON DELETE CASCADE,
            topic_pk INTEGER NOT NULL,
            cursor INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,          -- pending, done, cancelled
            available_at INTEGER NOT NULL,
            lease_owner TEXT
        );
        CREATE INDEX fanout_jobs_due ON fanout_jobs(available_at) WHERE status = 'pending';
        CREATE INDEX fanout_jobs_event ON fanout_jobs(event_pk);

        CREATE TABLE idempotency_keys (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            request_hash TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX idempotency_keys_age ON idempotency_keys(created_at);
        """
}
