/// `/v1/settings/rate-limits`: the tenant's notification rate limits, each replacing the server's
/// (`rate_limits:` in herald.yml) of the same scope.
extension RateLimitSettings: TenantSettingsDocument {
    public static let key = "rate_limits"
    public static let name = "rate-limits"

    public init() { self.init(perSubscriber: nil) }

    /// Named as in the server's file (`rate_limits.per_tenant.limit`), as documented.
    public func problems(in context: TenantSettingsContext) -> [FieldError] { problems() }

    /// The tenant's own settings (absent when it has none) beside what applies to its messages.
    public static func answer(_ stored: RateLimitSettings?, after change: TenantSettingsChange<RateLimitSettings>?, in context: TenantSettingsContext)
        -> Answer
    {
        Answer(settings: stored, effective: context.configuration.rateLimits.overridden(by: stored))
    }

    public struct Answer: Encodable, Sendable {
        public var settings: RateLimitSettings?
        public var effective: RateLimitSettings
    }
}
