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

    @Option(name: .long, help: "Address to listen on (or $HERALD_HOST).")
    var host: String?

    @Option(name: .long, help: "Port to listen on (or $HERALD_PORT).")
    var port: Int?

    @Option(name: .long, help: "Operator key for POST /v1/tenants (or $HERALD_ADMIN_KEY).")
    var adminKey: String?

    @Option(
        name: .long,
        help: """
            What this process runs (or $HERALD_ROLE): all (API and workers, the default), api (HTTP API and live inbox streams) \
            or worker (delivery, fan-out, schedules and cleanup; only /healthz, /readyz and /metrics over HTTP). \
            api and worker need PostgreSQL.
            """)
    var role: String?

    func run() async throws {
        var configuration = try common.load()
        if let role {
            do {
                configuration.role = try HeraldConfiguration.role(role, source: "--role")
            } catch let error as ConfigurationError {
                throw ValidationError(error.description)
            }
        }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        if let adminKey { configuration.adminKey = adminKey }
        let logger = common.logger(configuration)
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
