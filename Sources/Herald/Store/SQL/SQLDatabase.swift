/// A store as the code shared by both stores sees it: a database that runs one ``SQLQuery`` at a time in
/// its dialect. What a store does in one statement (a page of the inbox, marking it read) is written once,
/// in an extension of this protocol, and both stores get it by conforming; what needs a transaction of
/// dependent statements is written as steps both stores drive (``PlanningSteps``).
public protocol SQLDatabase: Sendable {
    var dialect: SQLDialect { get }
    /// Runs a read and returns its rows.
    func readRows(_ query: SQLQuery) async throws -> [[SQLValue]]
    /// Runs a write that is one statement, committed on its own, and returns its rows (`RETURNING`).
    func writeRows(_ query: SQLQuery) async throws -> [[SQLValue]]
    /// Runs statements that do not depend on each other's rows in one transaction, all or none, and
    /// returns each one's rows.
    @discardableResult
    func writeAll(_ queries: [SQLQuery]) async throws -> [[[SQLValue]]]
    /// Runs `steps` in one write transaction, each step's statements chosen from the rows of the one
    /// before, and returns them finished.
    func write<Steps: TransactionSteps>(_ steps: Steps) async throws -> Steps
}

/// Statements a store runs in one write transaction when each step depends on the rows of the one
/// before: a state machine without I/O, so both stores drive the same logic (one loop each).
///
/// ```swift
/// while let statements = steps.next() { try steps.take(try statements.map { try run(db, $0) }) }
/// ```
public protocol TransactionSteps: Sendable {
    /// The statements of the current step, or nil when there are no more.
    func next() -> [SQLStatement]?
    /// The rows of each statement ``next()`` gave, in order.
    mutating func take(_ results: [[[SQLValue]]]) throws
}
