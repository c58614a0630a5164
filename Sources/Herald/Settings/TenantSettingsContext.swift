import Foundation

/// What a settings family's rules and answers may read of the engine: the tenant, and the server's
/// configuration (the outbound destination policy, the defaults the tenant's settings override).
public struct TenantSettingsContext: Sendable {
    public let tenantID: String
    public let configuration: HeraldConfiguration
    /// The store, for answers that show more than the document (the status webhooks' delivery counts).
    let store: any Store
    /// The provider endpoints' circuit breakers, for answers that show an endpoint's state.
    let circuits: CircuitBreakers

    /// Where tenants' webhooks, chat webhooks, SMS gateways and SMTP servers may point.
    public var destinationPolicy: DestinationPolicy { configuration.outbound.policy }
}
