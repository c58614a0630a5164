import Foundation
import GRDB

extension SQLiteStore {
    public func createTenant(name: String, key: IssuedKeyMaterial) async throws -> (Tenant, APIKeyInfo) {
        let now = Date()
        let tenant = Tenant(id: Identifier.make("tn", at: now), name: name, createdAt: now)
        return try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO tenants(id, name, created_at) VALUES (?, ?, ?)", arguments: [tenant.id, name, Self.ms(now)])
            let info = try Self.insertKey(db, tenantID: tenant.id, key: key, now: now)
            return (tenant, info)
        }
    }

    public func tenant(id: String) async throws -> Tenant? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, name, created_at FROM tenants WHERE id = ?", arguments: [id]).map(Self.tenant(from:))
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, created_at FROM tenants ORDER BY id").map(Self.tenant(from:))
        }
    }

    public func tenant(apiKeyHash: String) async throws -> Tenant? {
        try await pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT t.id, t.name, t.created_at FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
                        WHERE k.hash = ? AND k.revoked_at IS NULL
                        """), arguments: [apiKeyHash]
            ).map(Self.tenant(from:))
        }
    }

    public func addAPIKey(tenantID: String, key: IssuedKeyMaterial) async throws -> APIKeyInfo {
        try await pool.write { db in try Self.insertKey(db, tenantID: tenantID, key: key, now: Date()) }
    }

    public func apiKeys(tenantID: String) async throws -> [APIKeyInfo] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, name, prefix, created_at, revoked_at FROM api_keys WHERE tenant_id = ? ORDER BY created_at",
                arguments: [tenantID]
            ).map(Self.keyInfo(from:))
        }
    }

    public func revokeAPIKey(tenantID: String, keyID: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE api_keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL",
                arguments: [Self.ms(Date()), tenantID, keyID])
            return db.changesCount > 0
        }
    }

    private static func insertKey(_ db: Database, tenantID: String, key: IssuedKeyMaterial, now: Date) throws -> APIKeyInfo {
        try db.execute(
            sql: "INSERT INTO api_keys(id, tenant_id, hash, prefix, name, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [key.id, tenantID, key.hash, key.prefix, key.name, ms(now)])
        return APIKeyInfo(id: key.id, name: key.name, prefix: key.prefix, createdAt: now, revokedAt: nil)
    }

    private static func tenant(from row: Row) -> Tenant {
        Tenant(id: row[0], name: row[1], createdAt: date(row[2])!)
    }

    private static func keyInfo(from row: Row) -> APIKeyInfo {
        APIKeyInfo(id: row[0], name: row[1], prefix: row[2], createdAt: date(row[3])!, revokedAt: date(row[4]))
    }
}

extension SQLiteStore {
    public func tenantSetting(tenantID: String, key: String) async throws -> String? {
        try await pool.read { db in try Self.tenantSetting(db, tenantID: tenantID, key: key) }
    }

    public func putTenantSetting(tenantID: String, key: String, value: String?) async throws {
        try await pool.write { db in
            if let value {
                try db.execute(
                    sql: """
                        INSERT INTO tenant_settings(tenant_id, key, value, updated_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT(tenant_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                        """, arguments: [tenantID, key, value, Self.ms(Date())])
            } else {
                try db.execute(sql: "DELETE FROM tenant_settings WHERE tenant_id = ? AND key = ?", arguments: [tenantID, key])
            }
        }
    }

    public func tenantSettings(key: String) async throws -> [String: String] {
        try await pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT tenant_id, value FROM tenant_settings WHERE key = ?", arguments: [key])
            return Dictionary(rows.map { ($0[0] as String, $0[1] as String) }, uniquingKeysWith: { first, _ in first })
        }
    }

    public func updateTenantSetting<T: Sendable>(
        tenantID: String, key: String, _ update: @escaping @Sendable (String?) throws -> (value: String?, result: T)
    ) async throws -> T {
        try await pool.write { db in
            let stored = try Self.tenantSetting(db, tenantID: tenantID, key: key)
            let (value, result) = try update(stored)
            guard value != stored else { return result }
            if let value {
                try db.execute(
                    sql: """
                        INSERT INTO tenant_settings(tenant_id, key, value, updated_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT(tenant_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                        """, arguments: [tenantID, key, value, Self.ms(Date())])
            } else {
                try db.execute(sql: "DELETE FROM tenant_settings WHERE tenant_id = ? AND key = ?", arguments: [tenantID, key])
            }
            return result
        }
    }

    static func tenantSetting(_ db: Database, tenantID: String, key: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM tenant_settings WHERE tenant_id = ? AND key = ?"), arguments: [tenantID, key])
    }

    /// The tenant's email settings as the planner needs them (allowed recipient domains), empty when unset.
    static func emailSettings(_ db: Database, tenantID: String) throws -> EmailSettings {
        guard let text = try tenantSetting(db, tenantID: tenantID, key: EmailSettings.key) else { return EmailSettings() }
        return decodeJSON(EmailSettings.self, text) ?? EmailSettings()
    }

    /// The channels on which the tenant names its own destination, for the planner: chat when its chat
    /// settings list a webhook, webhook when it has an enabled webhook endpoint.
    static func tenantDestinations(_ db: Database, tenantID: String) throws -> Set<ChannelKind> {
        TenantDestinations.channels(
            chat: try tenantSetting(db, tenantID: tenantID, key: ChatSettings.key),
            webhook: try tenantSetting(db, tenantID: tenantID, key: WebhookSettings.key))
    }
}
