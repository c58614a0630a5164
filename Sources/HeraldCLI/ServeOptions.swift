import ArgumentParser

/// The flags of `herald serve` (and of `herald config`, which shows what `serve` would run with). Each
/// sets a key of the configuration, so it is read with the key's own parser and bounds, first of the
/// sources (see ``HeraldConfiguration/load(file:environment:flags:)``).
struct ServeOptions: ParsableArguments {
    @Option(name: .long, help: "Address to listen on (server.host, or $HERALD_SERVER_HOST).")
    var host: String?

    @Option(name: .long, help: "Port to listen on (server.port, or $HERALD_SERVER_PORT).")
    var port: String?

    @Option(name: .long, help: "Operator key for POST /v1/tenants (admin_key, or $HERALD_ADMIN_KEY).")
    var adminKey: String?

    @Option(
        name: .long,
        help: """
            What this process runs (role, or $HERALD_ROLE): all (API and workers, the default), api (HTTP API and live inbox streams) \
            or worker (delivery, fan-out, schedules and cleanup; only /healthz, /readyz and /metrics over HTTP). \
            api and worker need PostgreSQL.
            """)
    var role: String?

    /// The flags given, by the key each sets.
    var flags: [String: String] {
        var flags: [String: String] = [:]
        flags["server.host"] = host
        flags["server.port"] = port
        flags["admin_key"] = adminKey
        flags["role"] = role
        return flags
    }
}
