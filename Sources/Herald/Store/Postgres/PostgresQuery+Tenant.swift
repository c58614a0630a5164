import PostgresNIO

extension PostgresQuery.StringInterpolation {
    /// The store's own statements' form of ``SQLDialect/messages(ofTenant:alias:)``: one tenant's rows of
    /// `messages` (named `alias`), by the tenant index's key and then by the id.
    mutating func appendInterpolation(messagesOfTenant tenantID: String, alias: String) {
        let column = alias + ".tenant_id"
        appendLiteral(HistoryIndex.tenantKey(column) + " = " + HistoryIndex.tenantKeyOpening)
        appendInterpolation(tenantID)
        appendLiteral(HistoryIndex.tenantKeyClosing + " AND " + column + " = ")
        appendInterpolation(tenantID)
    }
}
