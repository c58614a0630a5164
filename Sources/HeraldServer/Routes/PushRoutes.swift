import Foundation
import Herald
import Hummingbird

/// Push: subscribers' devices (registered by the tenant's backend, or by an
/// app or browser itself with its subscriber token), and the VAPID public key a page subscribes with.
/// Answers never carry a private key or a Web Push subscription's keys.
struct PushRoutes {
    let engine: HeraldEngine

    struct VAPIDAnswer: Encodable {
        var publicKey: String
        enum CodingKeys: String, CodingKey { case publicKey = "public_key" }
    }

    struct DeviceList: Encodable {
        var data: [PushDevice]
    }

    /// Tenant key: any subscriber's devices (the settings are `/v1/settings/push`, in ``SettingsRoutes``).
    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.post("subscribers/{id}/devices") { request, context in
            let input = try await request.decodeJSON(NewPushDevice.self, context: context)
            let device = try await engine.registerPushDevice(tenantID: try context.requireTenant().id, subscriberID: try context.pathID("id"), input)
            return JSONResponse.make(device, status: .created)
        }
        group.get("subscribers/{id}/devices") { _, context in
            JSONResponse.make(
                DeviceList(data: try await engine.pushDevices(tenantID: try context.requireTenant().id, subscriberID: try context.pathID("id"))))
        }
        group.delete("subscribers/{id}/devices/{device}") { _, context in
            try await engine.deletePushDevice(
                tenantID: try context.requireTenant().id, subscriberID: try context.pathID("id"), deviceID: try context.pathID("device"))
            return JSONResponse.noContent()
        }
    }

    /// Subscriber token, read: the VAPID key a page subscribes with.
    func registerInboxReads(on group: RouterGroup<HeraldRequestContext>) {
        group.get("devices/vapid-public-key") { _, context in
            let claims = try context.requireSubscriber()
            return JSONResponse.make(VAPIDAnswer(publicKey: try await engine.vapidKey(tenantID: claims.tenantID).publicKeyBase64URL))
        }
    }

    /// Subscriber token, write: an app or a browser registers (and removes) itself.
    func registerInboxChanges(on group: RouterGroup<HeraldRequestContext>) {
        group.post("devices") { request, context in
            let claims = try context.requireSubscriber()
            let input = try await request.decodeJSON(NewPushDevice.self, context: context)
            let device = try await engine.registerPushDevice(tenantID: claims.tenantID, subscriberID: claims.subscriberID, input)
            return JSONResponse.make(device, status: .created)
        }
        group.delete("devices/{device}") { _, context in
            let claims = try context.requireSubscriber()
            try await engine.deletePushDevice(tenantID: claims.tenantID, subscriberID: claims.subscriberID, deviceID: try context.pathID("device"))
            return JSONResponse.noContent()
        }
    }
}
