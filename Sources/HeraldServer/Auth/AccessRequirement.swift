import Herald

/// What a route, stream or WebSocket command needs before it runs. Every route is registered under one
/// (``RouteAccess/declare(_:on:_:)``), so none can be added without saying.
public enum AccessRequirement: Sendable, Hashable, CustomStringConvertible {
    /// Anyone: probes, the API description, web assets and pages, the console's sign-in form.
    case open
    /// A signed link's `token` is the authority (an email's unsubscribe or preference link). The engine
    /// verifies it with the link kind's own key when the route applies it, so no other credential is one;
    /// a missing or wrong link is the route's 400 page, since it is the link that is bad, not a login.
    case link(AccessScope)
    /// A credential (a bearer key or token, a subscriber token in `?token=`, the console cookie) whose kind
    /// grants `scope`; ``Authenticator/authorize(_:needs:csrfToken:)`` checks it: 401 for none or an invalid
    /// one, 403 for one that does not reach this far.
    case credential(AccessScope)

    /// The scope a credential or link must grant; empty for open routes.
    public var scope: AccessScope {
        switch self {
        case .open: []
        case .link(let scope), .credential(let scope): scope
        }
    }

    public var description: String {
        switch self {
        case .open: "open"
        case .link(let scope): "link (\(scope))"
        case .credential(let scope): "credential (\(scope))"
        }
    }
}
