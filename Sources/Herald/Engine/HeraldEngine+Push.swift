import Foundation
import Logging

extension HeraldEngine {
    static let pushSettingsKey = "push"

    /// The built-in push channel: each tenant's providers from the store, else the server's.
    static func makePushChannel(
        configuration: HeraldConfiguration, store: any Store, http: OutboundHTTPClient, circuits: CircuitBreakers, logger: Logger
    ) -> PushChannel {
        var defaults = configuration.push
        let base = configuration.publicBaseURL
        defaults.fallbackSubject = base.hasPrefix("https://") ? base : "mailto:\(configuration.email.fromAddress)"
        return PushChannel(
            defaults: defaults, http: http, circuits: circuits, store: store, logger: logger,
            settings: { tenantID in try await loadPushSettings(store: store, tenantID: tenantID) },
            vapid: { tenantID in try await vapidKey(store: store, tenantID: tenantID) })
    }

    // MARK: settings

    static func loadPushSettings(store: any Store, tenantID: String) async throws -> PushSettings {
        guard let text = try await store.tenantSetting(tenantID: tenantID, key: pushSettingsKey) else { return PushSettings() }
        do {
            return try JSONCoding.decoder.decode(PushSettings.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw HeraldError.invalid([FieldError(error.fieldPath, "the stored push settings are not valid: \(error.heraldReason)")])
        }
    }

    /// The tenant's push settings as stored (keys included; redact before showing them).
    public func pushSettings(tenantID: String) async throws -> PushSettings {
        try await Self.loadPushSettings(store: store, tenantID: tenantID)
    }

    /// Replaces the tenant's push settings after checking every field; a key sent back as `********` keeps the stored one.
    @discardableResult
    public func putPushSettings(tenantID: String, _ settings: PushSettings) async throws -> PushSettings {
        let stored = (try? await pushSettings(tenantID: tenantID)) ?? PushSettings()
        let settings = settings.restoringSecrets(from: stored)
        let problems = settings.problems(policy: configuration.outbound.policy)
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        try await store.putTenantSetting(tenantID: tenantID, key: Self.pushSettingsKey, value: JSONCoding.encodeText(settings))
        pushChannel?.settingsChanged(tenantID: tenantID)
        return settings
    }

    public func deletePushSettings(tenantID: String) async throws {
        try await store.putTenantSetting(tenantID: tenantID, key: Self.pushSettingsKey, value: nil)
        pushChannel?.settingsChanged(tenantID: tenantID)
    }

    /// The tenant's VAPID key pair, made the first time anything asks; the first node to store one wins, so
    /// every node signs with the key browsers subscribed with.
    public func vapidKey(tenantID: String) async throws -> VAPIDKey {
        try await Self.vapidKey(store: store, tenantID: tenantID)
    }

    static func vapidKey(store: any Store, tenantID: String) async throws -> VAPIDKey {
        let pem = try await store.setting("webpush_vapid:\(tenantID)", default: VAPIDKey.generate().pemRepresentation)
        return try VAPIDKey(pem: pem)
    }

    /// The push channel in use (built-in or given), for cache invalidation.
    public var pushChannel: PushChannel? { channels.first { $0.kind == .push } as? PushChannel }

    // MARK: devices

    /// Registers a device for a subscriber (or updates the one with the same token or endpoint).
    public func registerPushDevice(tenantID: String, subscriberID: String, _ device: NewPushDevice) async throws -> PushDevice {
        let problems = device.problems
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        guard let registered = try await store.registerPushDevice(tenantID: tenantID, subscriberID: subscriberID, device, now: clock.now()) else {
            throw HeraldError.notFound("subscriber '\(subscriberID)'")
        }
        return registered
    }

    public func pushDevices(tenantID: String, subscriberID: String) async throws -> [PushDevice] {
        _ = try await subscriber(tenantID: tenantID, id: subscriberID)
        return try await store.pushDevices(tenantID: tenantID, subscriberID: subscriberID)
    }

    public func deletePushDevice(tenantID: String, subscriberID: String, deviceID: String) async throws {
        guard try await store.deletePushDevice(tenantID: tenantID, subscriberID: subscriberID, deviceID: deviceID) else {
            throw HeraldError.notFound("device '\(deviceID)'")
        }
    }
}
