import Herald

/// Who is calling, once ``Authenticator`` has resolved the request's credential: its kind (and so its
/// scopes) and what the credential names.
public struct Principal: Sendable {
    public var kind: CredentialKind
    /// The tenant of a tenant API key or a console session.
    public var tenant: Tenant?
    /// The claims of a subscriber token (full or preferences-only).
    public var subscriber: SubscriberTokens.Claims?
    /// The console session behind a session cookie.
    public var consoleSession: ConsoleSession?

    public var scopes: AccessScope { kind.scopes }

    init(kind: CredentialKind, tenant: Tenant? = nil, subscriber: SubscriberTokens.Claims? = nil, consoleSession: ConsoleSession? = nil) {
        self.kind = kind
        self.tenant = tenant
        self.subscriber = subscriber
        self.consoleSession = consoleSession
    }
}
