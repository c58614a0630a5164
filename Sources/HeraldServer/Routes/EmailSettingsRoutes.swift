import Herald
import Hummingbird

/// What the email settings have beyond ``SettingsRoutes``: `GET /v1/settings/email/dns`, the DNS records
/// (SPF, DKIM, DMARC, bounce domain) the tenant's settings call for.
struct EmailSettingsRoutes {
    let engine: HeraldEngine

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("settings/email/dns") { _, context in
            JSONResponse.make(try await engine.emailDNSRecords(tenantID: try context.requireTenant().id))
        }
    }
}
