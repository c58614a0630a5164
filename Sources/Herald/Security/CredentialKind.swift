/// Every kind of credential Herald accepts, and what each grants. This table is the whole of who may do
/// what: the server resolves a request's credential to one of these kinds and compares its scopes with
/// what the route declares it needs.
public enum CredentialKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `HERALD_ADMIN_KEY`, for creating and listing tenants.
    case operatorKey = "operator key"
    /// A tenant API key (`hk_…`).
    case tenantKey = "tenant API key"
    /// The admin console's session cookie, opened with a tenant API key.
    case consoleSession = "console session"
    /// A subscriber token from `POST /v1/subscribers/{id}/token`: one subscriber's inbox and preferences.
    case subscriberToken = "subscriber token"
    /// The one-hour token of the page behind an email's preference link: that subscriber's preferences only.
    /// Anyone an email was forwarded to can open the link, so it must never show the inbox.
    case preferencesToken = "preferences-only subscriber token"
    /// The signed token in an email's preference link.
    case preferenceLinkToken = "preference link token"
    /// The signed token in an email's unsubscribe link.
    case unsubscribeToken = "unsubscribe token"

    public var scopes: AccessScope {
        switch self {
        case .operatorKey: [.operator]
        case .tenantKey: [.tenantAPI]
        case .consoleSession: [.tenantAPI, .console]
        case .subscriberToken: [.inboxRead, .inboxWrite, .preferences]
        case .preferencesToken: [.preferences]
        case .preferenceLinkToken: [.preferenceLink]
        case .unsubscribeToken: [.unsubscribe]
        }
    }

    public var description: String { rawValue }

    /// The kinds that grant all of `scope`, for a 401 that says what to send.
    public static func granting(_ scope: AccessScope) -> [CredentialKind] {
        allCases.filter { $0.scopes.isSuperset(of: scope) }
    }
}
