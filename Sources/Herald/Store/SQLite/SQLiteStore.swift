import Foundation
import GRDB
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The embedded store: one SQLite file in WAL mode, through GRDB.
///
/// Writes are synchronous closures inside one transaction (so no `await` can split one), serialized by
/// GRDB's single writer; reads run concurrently on the pool's readers. Hot statements are cached.
public final class SQLiteStore: Store {
    let pool: DatabasePool
    public let path: String
    /// The open lock file while this process is the database's dispatcher (held until exit).
    private let dispatcherLock = Mutex<Int32?>(nil)
    /// Critical writes waiting for the one writer, which a fan-out chunk stops part-way for.
    let urgency = UrgentWrites()
    private let checkpointer: WALCheckpointer

    public init(path: String) throws {
        self.path = path
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.foreignKeysEnabled = true
        configuration.label = "herald"
        configuration.maximumReaderCount = 4
        configuration.prepareDatabase { db in
            // WAL with NORMAL sync: a commit survives a process crash (kill -9); only an OS crash
            // or power loss can roll back the last transactions.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The writer's temporary tables are small (its transactions are batches). A read may sort a million rows
            // (a tenant's stats, the queue by priority): held in memory, that sort grew the process by ~50 MB; in a
            // temporary file, past the page cache, it costs the same time here and no memory.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA temp_store = MEMORY") }
            // The page cache is per connection: a generous one for the single writer (the hot path), a small
            // one for each reader, so memory stays bounded however large the database grows.
            try db.execute(sql: db.configuration.readonly ? "PRAGMA cache_size = -2000" : "PRAGMA cache_size = -16000")
            // The log is copied back by the checkpointer's own connection, not by the writer's commits.
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA wal_autocheckpoint = \(WALCheckpointer.writerLimitPages)") }
        }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.checkpointer = try WALCheckpointer(path: path)
        WALCheckpointer.start(checkpointer)
    }

    public func migrate() async throws {
        try Self.migrator.migrate(pool)
    }

    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func prepareDispatcher(now: Date) async throws -> Int {
        guard acquireDispatcherLock() else { return 0 }
        return try await releaseAllLeases(now: now)
    }

    /// Takes an exclusive `flock` on `<database>.dispatch-lock`. The kernel drops it when the process dies,
    /// however it dies, so holding it proves no other live process is dispatching from this file.
    private func acquireDispatcherLock() -> Bool {
        dispatcherLock.withLock { held in
            if held != nil { return true }
            let descriptor = open(path + ".dispatch-lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { return false }
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
                close(descriptor)
                return false
            }
            held = descriptor
            return true
        }
    }

    public var urgentWrites: UrgentWrites? { urgency }

    /// A write transaction; an `urgent` one is announced while it waits, so a long transaction stops early
    /// for it (``UrgentWrites``).
    func write<T: Sendable>(urgent: Bool, _ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        guard urgent else { return try await pool.write(updates) }
        urgency.raise()
        defer { urgency.lower() }
        return try await pool.write(updates)
    }

    public func setting(_ key: String, default candidate: String) async throws -> String {
        return try await pool.write { db in
            try db.execute(sql: "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING", arguments: [key, candidate])
            return try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) ?? candidate
        }
    }
}

// MARK: - Helpers shared by the store's files

extension SQLiteStore {
    static func ms(_ date: Date) -> Int64 { Timestamp.millis(date) }
    static func date(_ millis: Int64?) -> Date? { millis.map(Timestamp.date(millis:)) }

    /// `?, ?, ?` for an IN list of `count` values.
    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// Row ids as one JSON array, for `IN (SELECT value FROM json_each(?))`: one statement text for any
    /// number of ids, so it stays prepared.
    static func jsonArray(_ ids: [Int64]) -> String {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }

    static func tenantSubscriberPK(_ db: Database, tenantID: String, id: String) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT pk FROM subscribers WHERE tenant_id = ? AND id = ?"), arguments: [tenantID, id])
    }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONCoding.decoder.decode(T.self, from: Data(text.utf8))
    }

    /// Subscriber columns in the order `subscriber(from:at:)` reads them.
    static let subscriberColumns = "s.id, s.name, s.email, s.phone, s.locale, s.timezone, s.data, s.created_at, s.updated_at, s.quiet_hours"

    static func subscriber(from row: Row, at offset: Int) -> Subscriber {
        var subscriber = Subscriber(
            id: row[offset], name: row[offset + 1], email: row[offset + 2], phone: row[offset + 3], locale: row[offset + 4],
            timezone: row[offset + 5], data: decodeJSON([String: JSONValue].self, row[offset + 6]))
        subscriber.createdAt = date(row[offset + 7])
        subscriber.updatedAt = date(row[offset + 8])
        subscriber.quietHours = decodeJSON(QuietHours.self, row[offset + 9])
        return subscriber
    }
}
