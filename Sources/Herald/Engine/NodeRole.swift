/// What one Herald process does, so the HTTP API and delivery can be scaled apart on a shared database.
///
/// - `all` (the default): the API and every background service, as one process.
/// - `api`: the HTTP API and the live inbox streams. Triggers are written to the database and the workers
///   hear of them through `LISTEN/NOTIFY`; inbox changes made by workers reach the streams held here the
///   same way.
/// - `worker`: dispatch, fan-out, schedules, status webhooks and cleanup, with only `/healthz`, `/readyz`
///   and `/metrics` served over HTTP for probes and scraping.
///
/// Split roles need a database the processes share and signal through, so they are PostgreSQL-only: on
/// SQLite an `api` process would accept work no one delivers and a `worker`'s inbox pushes would reach no
/// one, so Herald refuses to start that way instead.
public enum NodeRole: String, Sendable, CaseIterable {
    case api
    case worker
    case all

    /// Whether this process serves the tenant, subscriber and console routes.
    public var servesAPI: Bool { self != .worker }

    /// Whether this process runs the dispatcher and the other background services.
    public var runsWorkers: Bool { self != .api }
}
