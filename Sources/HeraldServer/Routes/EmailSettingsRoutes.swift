import Foundation
import Herald
import Hummingbird

/// The tenant's email settings: sender, SMTP server, layout, allowed recipient domains.
/// Answers never carry the SMTP password, only `********` in its place.
struct EmailSettingsRoutes {
    let engine: HeraldEngine

    /// Read-only: the sender and transport in force. Holds no credentials.
    struct Effective: Encodable {
        struct Server: Encodable {
            var host: String
            var port: Int
            var security: SMTPServerConfiguration.Security
            /// `tenant` for the tenant's own server, `server` for the server-wide default.
            var source: String
        }

        var fromAddress: String
        var fromName: String?
        var replyTo: String?
        var unsubscribeMailto: String?
        /// `smtp`, or `outbox` when email is written to files because no SMTP server is configured.
        var transport: String
        var smtp: Server?

        enum CodingKeys: String, CodingKey {
            case fromAddress = "from_address"
            case fromName = "from_name"
            case replyTo = "reply_to"
            case unsubscribeMailto = "unsubscribe_mailto"
            case transport, smtp
        }

        init(settings: EmailSettings, defaults: EmailDefaults) {
            self.fromAddress = settings.fromAddress ?? defaults.fromAddress
            self.fromName = settings.fromName ?? defaults.fromName
            self.replyTo = settings.replyTo ?? defaults.replyTo
            self.unsubscribeMailto = settings.unsubscribeMailto ?? defaults.unsubscribeMailto
            if let server = settings.smtp {
                self.smtp = Server(host: server.host, port: server.port, security: server.security, source: "tenant")
            } else if let server = defaults.smtp {
                self.smtp = Server(host: server.host, port: server.port, security: server.security, source: "server")
            }
            self.transport = smtp == nil ? "outbox" : "smtp"
        }

        /// Absent values are written as `null`, so a reader sees every effective field.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(fromAddress, forKey: .fromAddress)
            try container.encode(fromName, forKey: .fromName)
            try container.encode(replyTo, forKey: .replyTo)
            try container.encode(unsubscribeMailto, forKey: .unsubscribeMailto)
            try container.encode(transport, forKey: .transport)
            try container.encode(smtp, forKey: .smtp)
        }
    }

    /// The stored settings, redacted, beside what sending will use.
    static func answer(_ settings: EmailSettings, defaults: EmailDefaults) -> SettingsAnswer<EmailSettings, Effective> {
        SettingsAnswer(settings: settings.redacted, effective: Effective(settings: settings, defaults: defaults))
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("settings/email") { _, context in
            let settings = try await engine.emailSettings(tenantID: try context.requireTenant().id)
            return JSONResponse.make(Self.answer(settings, defaults: engine.configuration.email))
        }
        group.put("settings/email") { request, context in
            let input = try await request.decodeJSON(EmailSettings.self, context: context)
            let stored = try await engine.putEmailSettings(tenantID: try context.requireTenant().id, input)
            return JSONResponse.make(Self.answer(stored, defaults: engine.configuration.email))
        }
        group.get("settings/email/dns") { _, context in
            JSONResponse.make(try await engine.emailDNSRecords(tenantID: try context.requireTenant().id))
        }
        group.delete("settings/email") { _, context in
            try await engine.deleteEmailSettings(tenantID: try context.requireTenant().id)
            return JSONResponse.noContent()
        }
    }
}
