import Foundation
import PostgresNIO

extension PostgresStore {
    public func createTenant(name: String, key: IssuedKeyMaterial) async throws -> (Tenant, APIKeyInfo) {
        let now = Date()
        let tenant = Tenant(id: Identifier.make("tn", at: now), name: name, createdAt: now)
        return try await write { connection in
            try await connection.run("INSERT INTO tenants(id, name, created_at) VALUES (\(tenant.id), \(name), \(Self.ms(now)))", logger)
            let info = try await Self.insertKey(connection, logger, tenantID: tenant.id, key: key, now: now)
            return (tenant, info)
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await read { connection in
            try await connection.rows("SELECT id, name, created_at FROM tenants WHERE id = \(id)", logger).first.map(Self.tenant(from:))
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await read { connection in
            try await connection.rows("SELECT id, name, created_at FROM tenants ORDER BY id", logger).map(Self.tenant(from:))
        }
    }

    public func tenant(apiKeyHash: String) async throws -> Tenant? {
        try await read { connection in
            try await connection.rows(
                """
                SELECT t.id, t.name, t.created_at FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
                WHERE k.hash = \(apiKeyHash) AND k.revoked_at IS NULL
                """, logger
            ).first.map(Self.tenant(from:))
        }
    }

    public func addAPIKey(tenantID: String, key: IssuedKeyMaterial) async throws -> APIKeyInfo {
        try await write { connection in try await Self.insertKey(connection, logger, tenantID: tenantID, key: key, now: Date()) }
    }

    public func apiKeys(tenantID: String) async throws -> [APIKeyInfo] {
        try await read { connection in
            try await connection.rows(
                "SELECT id, name, prefix, created_at, revoked_at FROM api_keys WHERE tenant_id = \(tenantID) ORDER BY created_at", logger
            ).map(Self.keyInfo(from:))
        }
    }

    public func revokeAPIKey(tenantID: String, keyID: String) async throws -> Bool {
        try await write { connection in
            try await connection.count(
                """
                UPDATE api_keys SET revoked_at = \(Self.ms(Date())) WHERE tenant_id = \(tenantID) AND id = \(keyID) AND revoked_at IS NULL
                RETURNING id
                """, logger) > 0
        }
    }

    private static func insertKey(_ connection: PostgresConnection, _ logger: Logger, tenantID: String, key: IssuedKeyMaterial, now: Date)
        async throws -> APIKeyInfo
    {
        try await connection.run(
            """
            INSERT INTO api_keys(id, tenant_id, hash, prefix, name, created_at)
            VALUES (\(key.id), \(tenantID), \(key.hash), \(key.prefix), \(key.name), \(ms(now)))
            """, logger)
        return APIKeyInfo(id: key.id, name: key.name, prefix: key.prefix, createdAt: now, revokedAt: nil)
    }

    private static func tenant(from row: SQLRow) throws -> Tenant {
        Tenant(id: try row[0], name: try row[1], createdAt: date(try row[2])!)
    }

    private static func keyInfo(from row: SQLRow) throws -> APIKeyInfo {
        APIKeyInfo(id: try row[0], name: try row[1], prefix: try row[2], createdAt: date(try row[3])!, revokedAt: date(try row[4]))
    }
}

// MARK: - Tenant settings

extension PostgresStore {
    public func tenantSetting(tenantID: String, key: String) async throws -> String? {
        try await read { connection in try await Self.tenantSetting(connection, logger, tenantID: tenantID, key: key) }
    }

    public func putTenantSetting(tenantID: String, key: String, value: String?) async throws {
        try await write { connection in try await Self.storeTenantSetting(connection, logger, tenantID: tenantID, key: key, value: value) }
    }

    public func tenantSettings(key: String) async throws -> [String: String] {
        try await read { connection in
            let rows = try await connection.rows("SELECT tenant_id, value FROM tenant_settings WHERE key = \(key)", logger)
            return Dictionary(try rows.map { (try $0[0] as String, try $0[1] as String) }, uniquingKeysWith: { first, _ in first })
        }
    }

    public func updateTenantSetting<T: Sendable>(
        tenantID: String, key: String, _ update: @escaping @Sendable (String?) throws -> (value: String?, result: T)
    ) async throws -> T {
        try await write { connection in
            // Serializes read-change-write of one document across nodes, whether or not its row exists yet.
            try await connection.run("SELECT pg_advisory_xact_lock(hashtext(\("setting:" + tenantID + ":" + key)))", logger)
            let stored = try await Self.tenantSetting(connection, logger, tenantID: tenantID, key: key)
            let (value, result) = try update(stored)
            guard value != stored else { return result }
            try await Self.storeTenantSetting(connection, logger, tenantID: tenantID, key: key, value: value)
            return result
        }
    }

    private static func storeTenantSetting(_ connection: PostgresConnection, _ logger: Logger, tenantID: String, key: String, value: String?)
        async throws
    {
        if let value {
            try await connection.run(
                """
                INSERT INTO tenant_settings(tenant_id, key, value, updated_at) VALUES (\(tenantID), \(key), \(value), \(ms(Date())))
                ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """, logger)
        } else {
            try await connection.run("DELETE FROM tenant_settings WHERE tenant_id = \(tenantID) AND key = \(key)", logger)
        }
    }

    static func tenantSetting(_ connection: PostgresConnection, _ logger: Logger, tenantID: String, key: String) async throws -> String? {
        try await connection.rows("SELECT value FROM tenant_settings WHERE tenant_id = \(tenantID) AND key = \(key)", logger).first.map {
            try $0[0]
        }
    }
}

// MARK: - Catalog

extension PostgresStore {
    public func tenantEventTypes(tenantID: String) async throws -> (defined: [EventType], deleted: Set<String>) {
        try await read { connection in
            var defined: [EventType] = []
            var deleted: Set<String> = []
            for row in try await connection.rows("SELECT key, definition FROM event_types WHERE tenant_id = \(tenantID)", logger) {
                if let text: String = try row[1], let eventType = Self.decodeJSON(EventType.self, text) {
                    defined.append(eventType)
                } else {
                    deleted.insert(try row[0])
                }
            }
            return (defined, deleted)
        }
    }

    public func tenantEventType(tenantID: String, key: String) async throws -> TenantEventTypeEntry? {
        try await read { connection in
            guard
                let row = try await connection.rows(
                    "SELECT definition FROM event_types WHERE tenant_id = \(tenantID) AND key = \(key)", logger
                ).first
            else { return nil }
            if let text: String = try row[0], let eventType = Self.decodeJSON(EventType.self, text) { return .defined(eventType) }
            return .deleted
        }
    }

    public func putEventType(tenantID: String, _ eventType: EventType) async throws {
        let definition = JSONCoding.encodeText(eventType)
        try await write { connection in
            try await connection.run(
                """
                INSERT INTO event_types(tenant_id, key, definition, updated_at) VALUES (\(tenantID), \(eventType.key), \(definition), \(Self.ms(Date())))
                ON CONFLICT (tenant_id, key) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at
                """, logger)
        }
    }

    public func deleteEventType(tenantID: String, key: String, tombstone: Bool) async throws {
        try await write { connection in
            if tombstone {
                try await connection.run(
                    """
                    INSERT INTO event_types(tenant_id, key, definition, updated_at) VALUES (\(tenantID), \(key), NULL, \(Self.ms(Date())))
                    ON CONFLICT (tenant_id, key) DO UPDATE SET definition = NULL, updated_at = excluded.updated_at
                    """, logger)
            } else {
                try await connection.run("DELETE FROM event_types WHERE tenant_id = \(tenantID) AND key = \(key)", logger)
            }
        }
    }
}

// MARK: - Console sessions

extension PostgresStore {
    public func createConsoleSession(apiKeyHash: String, idHash: String, csrfToken: String, now: Date, expiresAt: Date) async throws
        -> ConsoleSession?
    {
        try await write { connection in
            // Expired sessions go whenever someone signs in, so the table never outgrows its live sessions.
            try await connection.run("DELETE FROM console_sessions WHERE expires_at <= \(Self.ms(now))", logger)
            guard
                let row = try await connection.rows(
                    """
                    SELECT k.id, k.prefix, t.id, t.name, t.created_at FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
                    WHERE k.hash = \(apiKeyHash) AND k.revoked_at IS NULL
                    """, logger
                ).first
            else { return nil }
            let tenant = Tenant(id: try row[2], name: try row[3], createdAt: Self.date(try row[4])!)
            let keyID: String = try row[0]
            try await connection.run(
                """
                INSERT INTO console_sessions(id_hash, tenant_id, api_key_id, csrf_token, created_at, expires_at)
                VALUES (\(idHash), \(tenant.id), \(keyID), \(csrfToken), \(Self.ms(now)), \(Self.ms(expiresAt)))
                """, logger)
            return ConsoleSession(tenant: tenant, apiKeyPrefix: try row[1], csrfToken: csrfToken, expiresAt: expiresAt)
        }
    }

    public func consoleSession(idHash: String, now: Date) async throws -> ConsoleSession? {
        try await read { connection in
            try await connection.rows(
                """
                SELECT t.id, t.name, t.created_at, k.prefix, s.csrf_token, s.expires_at FROM console_sessions s
                JOIN api_keys k ON k.id = s.api_key_id JOIN tenants t ON t.id = s.tenant_id
                WHERE s.id_hash = \(idHash) AND s.expires_at > \(Self.ms(now)) AND k.revoked_at IS NULL
                """, logger
            ).first.map { row in
                ConsoleSession(
                    tenant: Tenant(id: try row[0], name: try row[1], createdAt: Self.date(try row[2])!), apiKeyPrefix: try row[3],
                    csrfToken: try row[4], expiresAt: Self.date(try row[5])!)
            }
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        try await write { connection in try await connection.run("DELETE FROM console_sessions WHERE id_hash = \(idHash)", logger) }
    }
}
