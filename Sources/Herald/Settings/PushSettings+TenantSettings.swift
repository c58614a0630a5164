/// `/v1/settings/push`: the tenant's APNs and FCM credentials and Web Push subject. Answers never carry a private
/// key: each shows as `********`, and sending that back keeps the stored key.
extension PushSettings: TenantSettingsDocument {
    public static let key = "push"

    public init() { self.init(apns: nil) }

    public func problems(in context: TenantSettingsContext) -> [FieldError] {
        problems(policy: context.destinationPolicy)
    }

    public func effective(in context: TenantSettingsContext) async throws -> Effective? {
        let vapid = try await HeraldEngine.vapidKey(store: context.store, tenantID: context.tenantID)
        return Effective(settings: self, defaults: context.configuration.push.settings, vapidPublicKey: vapid.publicKeyBase64URL)
    }
}
