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
}
