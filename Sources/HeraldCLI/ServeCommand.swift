import ArgumentParser
import Foundation
import Herald
import HeraldServer
import Hummingbird
import Metrics
import Prometheus

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP API and the delivery workers, together or (on PostgreSQL) as separate roles.")

    @OptionGroup var common: CommonOptions

    @OptionGroup var serve: ServeOptions

    func run() async throws {
        let configuration = try common.load(flags: serve.flags)
        let logger = common.logger(configuration)
        for warning in ConfigurationKey.misspeltVariables(in: ProcessInfo.processInfo.environment) { logger.warning("\(warning)") }
        let engine = try await configuration.openEngine(logger: logger)
        // Metrics from libraries (Hummingbird's HTTP request metrics) go to the engine's registry, so /metrics shows them.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: engine.metrics.registry))
        let app = try await HeraldServer.application(engine: engine, role: configuration.role, logger: logger)
        logger.notice(
            "Herald is starting",
            metadata: [
                "version": "\(HeraldVersion.description)",
                "url": "http://\(configuration.host):\(configuration.port)",
                "role": "\(configuration.role.rawValue)",
                "database": "\(configuration.databaseDisplayName)",
                "catalog": "\(configuration.eventTypes.count) event types from \(configuration.configFile ?? "no file")",
                "operator_routes": "\(configuration.adminKey == nil ? "disabled (set HERALD_ADMIN_KEY)" : "enabled")",
                "inbound_smtp": "\(configuration.email.inbound.map { "\($0.host):\($0.port) for \(configuration.email.bounceDomain ?? "")" } ?? "off")",
            ])
        try await app.runService()
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Create or upgrade the database schema, then exit.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let configuration = try common.load()
        _ = try await configuration.openEngine(logger: common.logger(configuration))
        print("database \(configuration.databaseDisplayName) is up to date")
    }
}
