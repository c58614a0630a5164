extension HistoryIndex {
    /// A tenant's messages, newest first: the activity log (`GET /v1/messages`) and the stats read it. On
    /// PostgreSQL it is keyed by a 64-bit hash of the tenant id instead of the id itself. The id is text
    /// (30 characters in a typical deployment), so the `(tenant_id, id)` entry took 59 bytes a message at
    /// ten million subscribers; `(hash, id)` is two 8-byte values, 24 bytes with the entry's header. A read
    /// compares the id as well (``SQLDialect/messages(ofTenant:alias:)``), so two tenants whose ids share a
    /// hash cost each other a few row visits, never a wrong row. The hash is the one PostgreSQL's hash
    /// partitioning relies on, so it is stable across its versions. SQLite keeps `(tenant_id, id)`: it has
    /// no such function, and a function of Herald's own in an index would break every other tool that
    /// opens the file.
    static let tenant = HistoryIndex(name: "messages_tenant", partitionSuffix: "tenant_key", columns: "(\(tenantKey("tenant_id"))), id")

    /// The key of the tenant index for a tenant id given as SQL: `tenantKeyOpening + sql + tenantKeyClosing`.
    static func tenantKey(_ sql: String) -> String { tenantKeyOpening + sql + tenantKeyClosing }
    static let tenantKeyOpening = "hashtextextended("
    static let tenantKeyClosing = ", 0)"
}
