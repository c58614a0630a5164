import Prometheus

extension HeraldMetrics {
    /// Counts a connection the HTTP server closed on accept because its connection cap was reached.
    public func recordConnectionRefused() {
        registry.makeCounter(
            name: "herald_http_connections_refused_total",
            help: "Connections closed as soon as they were accepted because server.max_connections were already open."
        ).increment()
    }
}
