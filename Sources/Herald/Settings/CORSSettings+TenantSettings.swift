/// `/v1/settings/cors`: the browser origins allowed to call the tenant's inbox endpoints.
extension CORSSettings: TenantSettingsDocument {
    public static let key = "cors"

    public init() { self.init(allowedOrigins: []) }

    public func problems(in context: TenantSettingsContext) -> [FieldError] { problems() }
}
