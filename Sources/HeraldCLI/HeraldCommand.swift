import ArgumentParser
import Foundation
import Herald
import Logging

@main
struct HeraldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Herald: a self-hosted notification service.",
        discussion: """
            Settings come from flags, then HERALD_* environment variables, then herald.yml (flags win). \
            `herald config` shows each setting in force and where it came from; `herald config check` checks a file.
            """,
        version: HeraldVersion.description,
        subcommands: [ServeCommand.self, MigrateCommand.self, ConfigCommand.self, TenantsCommand.self, SendCommand.self, EmailCommand.self, BenchCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}

/// Options every command shares; they override the environment and the file.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: ./herald.yml, or $HERALD_CONFIG).")
    var config: String?

    @Option(name: .long, help: "SQLite database file, or a postgres:// URL (database, or $HERALD_DATABASE).")
    var database: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (log_level, or $HERALD_LOG_LEVEL).")
    var logLevel: String?

    /// The configuration from `flags` (by key, `herald serve`'s and these), the environment and the file.
    /// A value refused by its key (out of bounds, not a number) stops the command with every problem named.
    func load(flags: [String: String] = [:]) throws -> HeraldConfiguration {
        var flags = flags
        flags["database"] = database
        flags["log_level"] = logLevel
        do {
            return try HeraldConfiguration.load(file: config, flags: flags)
        } catch let error as ConfigurationError {
            throw ValidationError("configuration problem:\n\(error.description)")
        }
    }

    func logger(_ configuration: HeraldConfiguration) -> Logger {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "herald")
    }
}

extension HeraldConfiguration {
    /// Opens the engine or exits with the reason, never with a stack trace.
    func openEngine(logger: Logger) async throws -> HeraldEngine {
        do {
            return try await HeraldEngine(configuration: self, logger: logger)
        } catch let error as ConfigurationError {
            throw ValidationError("configuration problem:\n\(error.description)")
        }
    }
}
