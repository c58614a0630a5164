import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import PostgresNIO

/// The store for many nodes: one PostgreSQL database that every Herald process shares, through postgres-nio.
///
/// Each store method is one transaction on a pooled connection. Claims take rows of the queue
/// (``MessageQueue``) with `FOR UPDATE SKIP LOCKED`, so nodes never wait for each other's batches; leases
/// (`available_at` of a leased queue row) hand a dead node's work to the others once they run out. Hot paths are one statement
/// each (batches go as one multi-row `VALUES` or `unnest`), never a loop of round trips.
///
/// The store owns the task that runs its `PostgresClient` (the connection pool), from `open` until
/// ``close()`` or until the store is released.
public final class PostgresStore: Store {
    public let configuration: Configuration
    let client: PostgresClient
    let logger: Logger
    /// This store's name in the notifications it sends, so that it ignores its own.
    let origin = Identifier.secret(bytes: 8)
    /// The expiry bounds of the history's days, so reads of many days skip those wholly expired.
    let expiredDays = ExpiredDays.Cache()
    private let runner: Task<Void, Never>

    /// Connects once to check the address, credentials and TLS (so a mistake is reported at startup with
    /// the server's own words), then starts the connection pool.
    public static func open(_ configuration: Configuration, logger: Logger = Logger(label: "herald.postgres")) async throws -> PostgresStore {
        try await configuration.checkConnection(logger: logger)
        let (started, starting) = AsyncStream<Void>.makeStream()
        let store = PostgresStore(configuration: configuration, logger: logger, started: starting)
        // The pool takes no lease before its run loop is up: wait for the runner to reach it.
        for await _ in started { break }
        return store
    }

    private init(configuration: Configuration, logger: Logger, started: AsyncStream<Void>.Continuation) {
        self.configuration = configuration
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        self.logger = quiet
        let client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: quiet)
        self.client = client
        self.runner = Task {
            started.finish()
            await client.run()
        }
    }

    deinit {
        runner.cancel()
    }

    /// Closes the pool's connections. The store cannot be used afterwards.
    public func close() async {
        runner.cancel()
        await runner.value
    }

    /// Applies the pending migrations in order, each in the transaction of its batch; a migration with
    /// preparation (``Schema/Migration/postgresPrepare``) first has it run outside any transaction, then
    /// goes in a transaction of its own. Afterwards, the partitions of the days ahead are made.
    public func migrate() async throws {
        try await migrate(before: nil)
    }

    /// Applies the pending migrations that come before `identifier` (all, when nil): a schema as an
    /// older Herald left it, for the tests of what migrating it does.
    func migrate(before identifier: String?) async throws {
        var prepared: Set<String> = []
        while let next = try await Self.retryingLocks({ try await self.applyMigrations(upTo: prepared, before: identifier) }) {
            try await prepare(next)
            prepared.insert(next.identifier)
        }
        guard identifier == nil else { return }
        try await withConnection { connection in try await Self.ensurePartitions(connection, logger) }
    }

    /// Applies pending migrations in one transaction, stopping before the first whose preparation is
    /// not in `prepared`, which it returns (nil when every migration is applied).
    private func applyMigrations(upTo prepared: Set<String>, before last: String?) async throws -> Schema.Migration? {
        try await write { connection in
            // One node migrates at a time; the others wait here, then find the schema current.
            try await connection.run("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey), hashtext(current_schema()))", logger)
            for migration in try await Self.pendingMigrations(connection, logger) {
                if migration.identifier == last { return nil }
                if migration.needsPreparation && !prepared.contains(migration.identifier) { return migration }
                for statement in migration.statements(in: .postgres) {
                    do {
                        try await connection.run(PostgresQuery(unsafeSQL: SQLDialect.postgres.schema(statement)), logger)
                    } catch let error as PSQLError where Self.isLockConflict(error) {
                        throw error
                    } catch {
                        throw ConfigurationError("migration \(migration.identifier) failed: \(Self.describe(error))")
                    }
                }
                try await connection.run(
                    "INSERT INTO herald_migrations(identifier, applied_at) VALUES (\(migration.identifier), \(Self.ms(Date())))", logger)
            }
            return nil
        }
    }

    /// Runs `migration`'s preparation outside a transaction, under the migration lock held for the
    /// session (so two nodes do not build the same index at once), unless another node has applied it.
    private func prepare(_ migration: Schema.Migration) async throws {
        try await withConnection { connection in
            try await connection.run("SELECT pg_advisory_lock(\(Self.migrationLockKey), hashtext(current_schema()))", logger)
            do {
                let pending = try await Self.pendingMigrations(connection, logger).contains { $0.identifier == migration.identifier }
                var needed = true
                if pending, let query = migration.postgresPrepareNeeded {
                    needed = try await connection.rows(PostgresQuery(unsafeSQL: query), logger).first.map { try $0[0] as Bool } ?? true
                }
                if pending && needed {
                    try await connection.run("SET lock_timeout = '5s'", logger)
                    do {
                        for statement in migration.postgresPrepare {
                            try await Self.retryingLocks { try await connection.run(PostgresQuery(unsafeSQL: statement), self.logger) }
                        }
                        if let query = migration.postgresPrepareEach {
                            // Listed again on each try: a concurrent build that timed out left an invalid index,
                            // which the list then drops before building it again.
                            try await Self.retryingLocks {
                                for row in try await connection.rows(PostgresQuery(unsafeSQL: query), self.logger) {
                                    try await connection.run(PostgresQuery(unsafeSQL: try row[0] as String), self.logger)
                                }
                            }
                        }
                    } catch {
                        throw ConfigurationError("preparing migration \(migration.identifier) failed: \(Self.describe(error))")
                    }
                }
            } catch {
                await connection.tidy("RESET lock_timeout", logger)
                await connection.tidy("SELECT pg_advisory_unlock(\(Self.migrationLockKey), hashtext(current_schema()))", logger)
                throw error
            }
            try await connection.run("RESET lock_timeout", logger)
            try await connection.run("SELECT pg_advisory_unlock(\(Self.migrationLockKey), hashtext(current_schema()))", logger)
        }
    }

    /// Runs `body` again while it fails for a lock (a timeout or a deadlock with running nodes' transactions),
    /// for up to a minute: a migration of a live database waits its turn instead of stalling their work.
    private static func retryingLocks<T>(_ body: () async throws -> T) async throws -> T {
        var tries = 0
        while true {
            tries += 1
            do {
                return try await body()
            } catch let error as PSQLError where tries < 60 && isLockConflict(error) {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// A lock not granted in time (`lock_timeout`), or a deadlock this transaction lost.
    private static func isLockConflict(_ error: PSQLError) -> Bool {
        ["55P03", "40P01"].contains(error.serverInfo?[.sqlState] ?? "")
    }

    private static func pendingMigrations(_ connection: PostgresConnection, _ logger: Logger) async throws -> [Schema.Migration] {
        try await connection.run("CREATE TABLE IF NOT EXISTS herald_migrations (identifier TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)", logger)
        let applied = Set(try await connection.rows("SELECT identifier FROM herald_migrations", logger).map { try $0[0] as String })
        return Schema.migrations.filter { !applied.contains($0.identifier) }
    }

    public func ping() async throws {
        _ = try await read { connection in try await connection.rows("SELECT 1", logger) }
    }

    /// Lease expiry hands a dead node's claims to the others: no node can tell that it is the only one.
    public func prepareDispatcher(now: Date) async throws -> Int { 0 }

    public func setting(_ key: String, default candidate: String) async throws -> String {
        try await write { connection in
            try await connection.run("INSERT INTO settings(key, value) VALUES (\(key), \(candidate)) ON CONFLICT (key) DO NOTHING", logger)
            return try await connection.rows("SELECT value FROM settings WHERE key = \(key)", logger).first.map { try $0[0] as String }
                ?? candidate
        }
    }

    /// `pg_advisory_xact_lock`'s first key for migrations ("HRLD"); the second is the schema's hash.
    static let migrationLockKey: Int32 = 0x4852_4C44
}

// MARK: - Transactions

extension PostgresStore {
    /// Leases a pooled connection for `body`.
    ///
    /// A connection the server ended (an operator's `pg_terminate_backend`, a restart, a failover) can be
    /// handed out once more before the pool hears that it closed, and a statement sent on it fails without
    /// reaching the server. Such a lease, or one whose transaction could not begin (nothing of `body` ran in
    /// the database), is given back and another taken: the end costs the statement that was running on the
    /// connection, not the next caller's too. `body` may therefore run again from the top, after transactions
    /// of its own committed on the ended connection: the bodies that run several (retention, a migration's
    /// preparation) are idempotent step by step.
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        var tries = 0
        while true {
            tries += 1
            do {
                return try await client.withConnection { connection in
                    guard !connection.isClosed else { throw EndedConnection(error: nil) }
                    return try await body(connection)
                }
            } catch let ended as EndedConnection {
                guard tries < 10 else { throw ended.error ?? ended }
                // The pool hears of the close on the connection's event loop, later on a busy machine: it may hand
                // the same connection out until then. Waits of 1, 2, 4 … 200 ms, half a second in all.
                try await Task.sleep(for: .milliseconds(min(1 << (tries - 1), 200)))
            }
        }
    }

    /// A lease that found its connection ended before anything of the caller's ran on it.
    struct EndedConnection: Error, CustomStringConvertible {
        /// The failure of the statement that found it, if one did.
        var error: PSQLError?
        var description: String { "the database server closed the connection" }
    }

    /// Runs `body` on a pooled connection outside a transaction (each statement commits on its own): for
    /// reads, which run again on another connection when theirs turns out ended (a read has nothing to undo,
    /// so whether its statement reached the server does not matter).
    func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            do {
                return try await body(connection)
            } catch let error as PSQLError where Self.isEndedConnection(error) {
                throw EndedConnection(error: error)
            }
        }
    }

    /// Runs `body` in one transaction, committed when it returns and rolled back when it throws. The
    /// error thrown is `body`'s own (a `HeraldError` stays one), not a wrapper. A transaction that
    /// PostgreSQL chose as a deadlock's victim runs again, up to three times.
    func write<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            var tries = 0
            while true {
                tries += 1
                do {
                    return try await Self.transaction(connection, logger) { try await body(connection) }
                } catch {
                    if tries < 3, Self.isMissingPartition(error) {
                        // A day with no partition yet (the cleanup singleton makes them ahead): make them, run again.
                        try await Self.ensurePartitions(connection, logger)
                        continue
                    }
                    guard tries < 3, Self.isRetryable(error) else { throw error }
                }
            }
        }
    }

    /// Runs `body` inside a savepoint of the caller's transaction: a throw undoes only what `body` wrote.
    static func savepoint<T>(_ connection: PostgresConnection, _ logger: Logger, _ body: () async throws -> T) async throws -> T {
        var tries = 0
        while true {
            tries += 1
            try await connection.run("SAVEPOINT request", logger)
            do {
                let value = try await body()
                try await connection.run("RELEASE SAVEPOINT request", logger)
                return value
            } catch {
                // A connection the server ended answers nothing more (see ``PostgresConnection/tidy(_:_:)``).
                guard !connection.isClosed else { throw error }
                try await connection.run("ROLLBACK TO SAVEPOINT request", logger)
                try await connection.run("RELEASE SAVEPOINT request", logger)
                guard tries < 3, isRetryable(error) else { throw error }
            }
        }
    }

    /// A row for a day whose partition of the history is not made yet.
    static func isMissingPartition(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.serverInfo?[.sqlState] == "23514" else { return false }
        return error.serverInfo?[.message]?.hasPrefix("no partition of relation") == true
    }

    /// A statement failed because its connection was closed (the server ended it, or the client is closing it).
    static func isEndedConnection(_ error: PSQLError) -> Bool {
        error.code == .serverClosedConnection || error.code == .clientClosedConnection
    }

    /// A deadlock victim or a serialization failure: the same work may simply run again.
    static func isRetryable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }
}

// MARK: - Rows and statements

/// One result row, read by position like GRDB's `row[0]`.
struct SQLRow {
    let row: PostgresRandomAccessRow

    subscript<T: PostgresDecodable>(_ index: Int) -> T {
        get throws { try row[index].decode(T.self) }
    }
}

extension PostgresConnection {
    /// Runs a statement and returns its rows.
    func rows(_ query: PostgresQuery, _ logger: Logger) async throws -> [SQLRow] {
        StatementCounter.record(query)
        var rows: [SQLRow] = []
        for try await row in try await self.query(query, logger: logger) {
            rows.append(SQLRow(row: row.makeRandomAccess()))
        }
        return rows
    }

    /// Runs a statement, discarding any rows.
    func run(_ query: PostgresQuery, _ logger: Logger) async throws {
        StatementCounter.record(query)
        for try await _ in try await self.query(query, logger: logger) {}
    }

    /// Runs a statement that tidies up after a failure (a rollback, an unlock, a reset), unless the connection
    /// is already gone: the server ended it (a restart, a failover, an operator's `pg_terminate_backend`), and a
    /// statement sent on a closed connection is never answered, so the caller would wait forever (as retention
    /// did here, in the test that ends its connection mid-drop). What it would have undone, the server undid
    /// when the session ended.
    ///
    /// The connection can also be ending without being closed yet (the server's last message read, the socket not
    /// yet shut): a statement sent then is not answered either. So it waits at most five seconds for the answer,
    /// then closes the connection, which fails the statement and tells the pool to open another.
    func tidy(_ query: PostgresQuery, _ logger: Logger) async {
        guard !isClosed else { return }
        // Neither the statement nor the close is awaited past the five seconds: on a connection in that state
        // either may never finish, and the caller must go on.
        let done = NIOLockedValueBox(false)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finish: @Sendable (Bool) -> Void = { answered in
                guard done.withLockedValue({ finished in defer { finished = true }; return !finished }) else { return }
                if !answered {
                    logger.notice("a statement tidying up after a failure went unanswered for 5 s; its connection is closed")
                    Task { try? await self.close() }
                }
                continuation.resume()
            }
            let timer = Task {
                guard (try? await Task.sleep(for: .seconds(5))) != nil else { return }
                finish(false)
            }
            Task {
                try? await self.run(query, logger)
                finish(true)
                timer.cancel()
            }
        }
    }

    /// Runs a statement ending in `RETURNING …` and counts the rows it returned.
    func count(_ query: PostgresQuery, _ logger: Logger) async throws -> Int {
        StatementCounter.record(query)
        var count = 0
        for try await _ in try await self.query(query, logger: logger) { count += 1 }
        return count
    }
}

/// A multi-row `VALUES` list with bound parameters, for one-statement batch writes.
///
/// ```swift
/// var values = SQLValues(types: ["bigint", "text"])
/// values.append { $0.bind(id); $0.bind(name) }
/// let query = PostgresQuery(unsafeSQL: "INSERT INTO t(id, name) VALUES \(values.sql)", binds: values.bindings)
/// ```
struct SQLValues {
    let types: [String]
    private(set) var bindings = PostgresBindings()
    private(set) var rowCount = 0
    /// Parameters already bound before the list (`$1` … `$offset`).
    let offset: Int

    init(types: [String], after bindings: PostgresBindings = PostgresBindings()) {
        self.types = types
        self.bindings = bindings
        self.offset = bindings.count
    }

    struct Row {
        fileprivate var bindings: PostgresBindings
        fileprivate var count = 0

        mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value?) {
            bindings.append(value)
            count += 1
        }
    }

    mutating func append(_ build: (inout Row) -> Void) {
        var row = Row(bindings: bindings)
        build(&row)
        precondition(row.count == types.count, "a VALUES row binds \(row.count) values for \(types.count) columns")
        bindings = row.bindings
        rowCount += 1
    }

    /// `($1::bigint, $2::text), ($3::bigint, $4::text)`: each placeholder cast, so NULLs have a type.
    var sql: String {
        var text = ""
        var index = offset
        for row in 0..<rowCount {
            if row > 0 { text += ", " }
            text += "("
            for (column, type) in types.enumerated() {
                index += 1
                if column > 0 { text += ", " }
                text += "$\(index)::\(type)"
            }
            text += ")"
        }
        return text
    }

    /// Rows per statement that keep a batch under PostgreSQL's 65,535 parameters.
    static func rowsPerStatement(columns: Int) -> Int { max(1, 30_000 / max(columns, 1)) }
}

// MARK: - Helpers shared by the store's files

extension PostgresStore {
    static func ms(_ date: Date) -> Int64 { Timestamp.millis(date) }
    static func date(_ millis: Int64?) -> Date? { millis.map(Timestamp.date(millis:)) }

    static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONCoding.decoder.decode(T.self, from: Data(text.utf8))
    }

    static func tenantSubscriberPK(_ connection: PostgresConnection, _ logger: Logger, tenantID: String, id: String) async throws -> Int64? {
        try await connection.rows("SELECT pk FROM subscribers WHERE tenant_id = \(tenantID) AND id = \(id)", logger).first.map { try $0[0] }
    }

    /// Subscriber columns in the order `subscriber(from:at:)` reads them.
    static let subscriberColumns = "s.id, s.name, s.email, s.phone, s.locale, s.timezone, s.data, s.created_at, s.updated_at, s.quiet_hours"

    static func subscriber(from row: SQLRow, at offset: Int) throws -> Subscriber {
        var subscriber = Subscriber(
            id: try row[offset], name: try row[offset + 1], email: try row[offset + 2], phone: try row[offset + 3], locale: try row[offset + 4],
            timezone: try row[offset + 5], data: decodeJSON([String: JSONValue].self, try row[offset + 6]))
        subscriber.createdAt = date(try row[offset + 7])
        subscriber.updatedAt = date(try row[offset + 8])
        subscriber.quietHours = decodeJSON(QuietHours.self, try row[offset + 9])
        return subscriber
    }
}
