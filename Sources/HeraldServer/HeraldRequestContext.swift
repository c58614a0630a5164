import Herald
import Hummingbird

/// Per-request state: who is calling, once an auth middleware has said so.
public struct HeraldRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The tenant whose API key authenticated the request.
    public var tenant: Tenant?
    /// The subscriber whose token authenticated an inbox request.
    public var subscriber: SubscriberTokens.Claims?
    /// Body limit; the body reader enforces it and answers 413 past it.
    public var bodyLimit: Int = 1 << 20

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// The authenticated tenant. Routes that call this sit behind `TenantAuthMiddleware`.
    func requireTenant() throws -> Tenant {
        guard let tenant else { throw HeraldError.unauthorized("an API key is required: send Authorization: Bearer <key>") }
        return tenant
    }

    func requireSubscriber() throws -> SubscriberTokens.Claims {
        guard let subscriber else { throw HeraldError.unauthorized("a subscriber token is required") }
        return subscriber
    }
}
