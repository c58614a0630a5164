import Foundation
import Logging

extension HeraldEngine {
    /// The built-in push channel: each tenant's providers from the store, else the server's.
    static func makePushChannel(
        configuration: HeraldConfiguration, store: any Store, settings: TenantSettings<PushSettings>, http: OutboundHTTPClient,
        circuits: CircuitBreakers, logger: Logger
    ) -> PushChannel {
        var defaults = configuration.push
        let base = configuration.publicBaseURL
        defaults.fallbackSubject = base.hasPrefix("https://") ? base : "mailto:\(configuration.email.fromAddress)"
        return PushChannel(
            defaults: defaults, http: http, circuits: circuits, store: store, logger: logger,
            settings: settings,
            vapid: { tenantID in try await vapidKey(store: store, tenantID: tenantID) })
    }

    // MARK: VAPID

    /// The tenant's VAPID key pair, made the first time anything asks; the first node to store one wins, so
    /// every node signs with the key browsers subscribed with.
    public func vapidKey(tenantID: String) async throws -> VAPIDKey {
        try await Self.vapidKey(store: store, tenantID: tenantID)
    }

    static func vapidKey(store: any Store, tenantID: String) async throws -> VAPIDKey {
        let pem = try await store.setting("webpush_vapid:\(tenantID)", default: VAPIDKey.generate().pemRepresentation)
        return try VAPIDKey(pem: pem)
    }

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
