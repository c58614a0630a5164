import Foundation

/// Looking up an idempotency key before a request does work it would repeat (fetching a trigger's files
/// from their URLs), once for both stores.
extension SQLDatabase {
    public func idempotentReplay(tenantID: String, claim: IdempotencyClaim) async throws -> [TriggerReceipt]? {
        guard
            let row = try await readRows(
                "SELECT request_hash, response FROM idempotency_keys WHERE tenant_id = \(tenantID) AND key = \(claim.key)"
            ).first
        else { return nil }
        guard row[0].text == claim.requestHash else {
            throw HeraldError.conflict(
                "Idempotency-Key '\(claim.key)' was already used with a different request body; use a new key for a new request")
        }
        return row[1].text.flatMap { try? JSONCoding.decoder.decode([TriggerReceipt].self, from: Data($0.utf8)) } ?? []
    }
}
