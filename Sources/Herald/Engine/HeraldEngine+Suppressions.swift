import Foundation

extension HeraldEngine {
    /// The tenant's active suppression-list entries, in address order.
    public func suppressions(tenantID: String, after cursor: String?, limit: Int) async throws -> Page<Suppression> {
        try await store.suppressions(tenantID: tenantID, after: cursor?.lowercased(), limit: limit)
    }

    /// Puts an address on the list by hand (or records a bounce or complaint learnt elsewhere).
    @discardableResult
    public func addSuppression(tenantID: String, _ request: NewSuppression) async throws -> Suppression {
        var problems: [FieldError] = []
        if let reason = EmailAddress.problem(in: request.address) { problems.append(FieldError("address", reason)) }
        if let detail = request.detail, detail.count > 1000 { problems.append(FieldError("detail", "must be at most 1000 characters")) }
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        let entry = Suppression(address: request.address, reason: request.reason ?? .manual, detail: request.detail, createdAt: clock.now())
        try await store.suppress(tenantID: tenantID, entry, messageRow: nil)
        return entry
    }

    /// Lifts an entry: the next email to the address goes out. Throws not-found when there is none.
    public func liftSuppression(tenantID: String, address: String) async throws {
        guard try await store.liftSuppression(tenantID: tenantID, address: address, now: clock.now()) else {
            throw HeraldError.notFound("\(address) is not on the suppression list")
        }
    }

    /// The DNS records the tenant publishes for DKIM, SPF, DMARC and bounces.
    public func emailDNSRecords(tenantID: String) async throws -> EmailDNSRecords {
        let settings = try await emailSettings(tenantID: tenantID)
        let host = URL(string: configuration.publicBaseURL)?.host ?? ProcessInfo.processInfo.hostName
        return EmailDNSRecords(settings: settings, defaults: configuration.email, inboundHost: host)
    }
}
