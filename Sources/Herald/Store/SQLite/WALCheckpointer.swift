import Foundation
import GRDB

/// Copies the write-ahead log back into the database file from a connection of its own, so the writer never does.
///
/// SQLite's default is that the commit which takes the log past 1,000 pages (4 MB) copies them back itself,
/// before the writer can start the next transaction: a fan-out writes that much about twice a second, and the
/// write that waits behind such a commit (a critical trigger's) waits for the copy too. Here the writer checkpoints
/// only as a last resort (past ``writerLimitPages``), and this connection runs a passive checkpoint every
/// ``interval``, which takes no lock a writer or reader waits for.
final class WALCheckpointer: Sendable {
    /// The log size at which the writer checkpoints after all (the default's ten times): reached only if this
    /// checkpointer falls behind, or is not running.
    static let writerLimitPages = 10_000
    static let interval = Duration.milliseconds(100)

    private let connection: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "herald-checkpoint"
        configuration.busyMode = .timeout(1)
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Checkpoints what the log holds, as far as readers allow; never waits for a lock.
    func checkpoint() throws {
        try connection.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
    }

    /// Runs ``checkpoint()`` every ``interval`` until `checkpointer` is gone (its store released).
    static func start(_ checkpointer: WALCheckpointer) {
        Task.detached(priority: .utility) { [weak checkpointer] in
            while !Task.isCancelled {
                guard let current = checkpointer else { return }
                // A failed checkpoint leaves the log to the next one (or to the writer's limit).
                try? current.checkpoint()
                try? await Task.sleep(for: interval)
            }
        }
    }
}
