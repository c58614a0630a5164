import Herald
import Hummingbird

/// Per-request state: who is calling, once the route's access check has said so.
public struct HeraldRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who is calling, once the route's ``AccessRequirement`` has been checked (``AccessControlMiddleware``).
    public var principal: Principal?
    /// The tenant of a tenant API key or console session.
    public var tenant: Tenant? { principal?.tenant }
    /// The subscriber whose token authenticated an inbox request.
    public var subscriber: SubscriberTokens.Claims? { principal?.subscriber }
    /// Body limit; the body reader enforces it and answers 413 past it.
    public var bodyLimit: Int = 1 << 20

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// The authenticated tenant. Routes that call this are declared `.credential(.tenantAPI)`.
    func requireTenant() throws -> Tenant {
        guard let tenant else { throw HeraldError.unauthorized("an API key is required: send Authorization: Bearer <key>") }
        return tenant
    }

    func requireSubscriber() throws -> SubscriberTokens.Claims {
        guard let subscriber else { throw HeraldError.unauthorized("a subscriber token is required") }
        return subscriber
    }
}
