import Foundation
import GRDB

extension SQLiteStore {
    public func createConsoleSession(apiKeyHash: String, idHash: String, csrfToken: String, now: Date, expiresAt: Date) async throws
        -> ConsoleSession?
    {
        try await pool.write { db in
            // Expired sessions go whenever someone signs in, so the table never outgrows its live sessions.
            try db.execute(sql: "DELETE FROM console_sessions WHERE expires_at <= ?", arguments: [Self.ms(now)])
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT k.id, k.prefix, t.id, t.name, t.created_at FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
                        WHERE k.hash = ? AND k.revoked_at IS NULL
                        """, arguments: [apiKeyHash])
            else { return nil }
            let tenant = Tenant(id: row[2], name: row[3], createdAt: Self.date(row[4])!)
            try db.execute(
                sql: """
                    INSERT INTO console_sessions(id_hash, tenant_id, api_key_id, csrf_token, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, arguments: [idHash, tenant.id, row[0] as String, csrfToken, Self.ms(now), Self.ms(expiresAt)])
            return ConsoleSession(tenant: tenant, apiKeyPrefix: row[1], csrfToken: csrfToken, expiresAt: expiresAt)
        }
    }

    public func consoleSession(idHash: String, now: Date) async throws -> ConsoleSession? {
        try await pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT t.id, t.name, t.created_at, k.prefix, s.csrf_token, s.expires_at FROM console_sessions s
                        JOIN api_keys k ON k.id = s.api_key_id JOIN tenants t ON t.id = s.tenant_id
                        WHERE s.id_hash = ? AND s.expires_at > ? AND k.revoked_at IS NULL
                        """), arguments: [idHash, Self.ms(now)]
            ).map { row in
                ConsoleSession(
                    tenant: Tenant(id: row[0], name: row[1], createdAt: Self.date(row[2])!), apiKeyPrefix: row[3], csrfToken: row[4],
                    expiresAt: Self.date(row[5])!)
            }
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE id_hash = ?", arguments: [idHash])
        }
    }
}
