import Foundation
import Herald
import Hummingbird

/// The tenant's SMS providers, in failover order, and its segment cap. Answers never carry a secret:
/// `auth_token` and `auth_value` show as `********`, and sending that back keeps the stored value.
struct SMSSettingsRoutes {
    let engine: HeraldEngine

    /// Read-only: the providers in force, without credentials.
    struct Effective: Encodable {
        struct Provider: Encodable {
            var type: SMSProviderConfiguration.Kind
            var name: String?
            var host: String?
            var from: String?
        }

        /// `tenant`, `server`, or `none` when no provider is configured anywhere (SMS messages then fail).
        var source: String
        var providers: [Provider]
        var maxSegments: Int

        enum CodingKeys: String, CodingKey {
            case source, providers
            case maxSegments = "max_segments"
        }

        init(settings: SMSSettings, defaults: SMSDefaults) {
            let providers = settings.providers.isEmpty ? defaults.providers : settings.providers
            self.source = !settings.providers.isEmpty ? "tenant" : defaults.providers.isEmpty ? "none" : "server"
            self.providers = providers.map {
                Provider(type: $0.type, name: $0.name, host: $0.endpoint?.host, from: $0.from ?? $0.messagingServiceSID)
            }
            self.maxSegments = settings.maxSegments ?? defaults.maxSegments
        }
    }

    /// The stored settings, redacted, beside what sending will use.
    static func answer(_ settings: SMSSettings, defaults: SMSDefaults) -> SettingsAnswer<SMSSettings, Effective> {
        SettingsAnswer(settings: settings.redacted, effective: Effective(settings: settings, defaults: defaults))
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("settings/sms") { _, context in
            let settings = try await engine.smsSettings(tenantID: try context.requireTenant().id)
            return JSONResponse.make(Self.answer(settings, defaults: engine.configuration.sms))
        }
        group.put("settings/sms") { request, context in
            let input = try await request.decodeJSON(SMSSettings.self, context: context)
            let stored = try await engine.putSMSSettings(tenantID: try context.requireTenant().id, input)
            return JSONResponse.make(Self.answer(stored, defaults: engine.configuration.sms))
        }
        group.delete("settings/sms") { _, context in
            try await engine.deleteSMSSettings(tenantID: try context.requireTenant().id)
            return JSONResponse.noContent()
        }
    }
}
