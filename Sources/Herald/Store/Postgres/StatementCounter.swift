import PostgresNIO
import Synchronization

/// Counts the statements a piece of work sends to PostgreSQL, so a test can hold a path to a bounded
/// number of round trips. Task-local: work started inside `StatementCounter.$current.withValue` is
/// counted (unstructured tasks it starts inherit it), and counting costs nothing when no one asks.
public final class StatementCounter: Sendable {
    @TaskLocal public static var current: StatementCounter?

    private let count = Atomic<Int>(0)
    private let firstLines = Mutex<[String]>([])

    public init() {}

    /// Statements counted so far.
    public var statements: Int { count.load(ordering: .relaxed) }

    /// The first line of each of the first 100 statements, to say which ones a count is made of.
    public var lines: [String] { firstLines.withLock { $0 } }

    static func record(_ query: PostgresQuery) {
        guard let counter = current else { return }
        counter.count.add(1, ordering: .relaxed)
        counter.firstLines.withLock { lines in
            if lines.count < 100 { lines.append(String(query.sql.prefix { $0 != "\n" }.prefix(100))) }
        }
    }
}
