import Foundation

/// A signed-in admin console: the tenant whose API key opened it, and the token every state-changing
/// request of that session must repeat (`X-CSRF-Token`), which a page on another site cannot know.
public struct ConsoleSession: Sendable, Hashable {
    public var tenant: Tenant
    /// The API key that signed in, shown so an operator knows which key a session rides on.
    public var apiKeyPrefix: String
    public var csrfToken: String
    public var expiresAt: Date

    public init(tenant: Tenant, apiKeyPrefix: String, csrfToken: String, expiresAt: Date) {
        self.tenant = tenant
        self.apiKeyPrefix = apiKeyPrefix
        self.csrfToken = csrfToken
        self.expiresAt = expiresAt
    }
}
