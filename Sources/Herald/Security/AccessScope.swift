/// What a credential lets its bearer do. Each kind of credential grants a fixed set
/// (``CredentialKind/scopes``), each route, stream and WebSocket command of the server needs one, and a
/// request passes only when the first contains the second, so a narrow token (a preference page's) can
/// never reach further than its kind says.
public struct AccessScope: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// The tenant API under `/v1` (event types, subscribers, events, messages, settings).
    public static let tenantAPI = AccessScope(rawValue: 1 << 0)
    /// Tenant management (`/v1/tenants`), with the server's operator key.
    public static let `operator` = AccessScope(rawValue: 1 << 1)
    /// Reading one subscriber's inbox: pages, counts, the SSE stream and the WebSocket replay.
    public static let inboxRead = AccessScope(rawValue: 1 << 2)
    /// Changing one subscriber's inbox: read, archive, read-all, seen (over HTTP or WebSocket).
    public static let inboxWrite = AccessScope(rawValue: 1 << 3)
    /// One subscriber's own preferences (`/v1/inbox/preferences`).
    public static let preferences = AccessScope(rawValue: 1 << 4)
    /// The admin console's own actions (the email preview frame), with its session cookie.
    public static let console = AccessScope(rawValue: 1 << 5)
    /// Turning off email from an unsubscribe link.
    public static let unsubscribe = AccessScope(rawValue: 1 << 6)
    /// Opening the preference page from an email's preference link.
    public static let preferenceLink = AccessScope(rawValue: 1 << 7)

    /// Every scope with its name, in the order messages list them.
    public static let named: [(scope: AccessScope, name: String)] = [
        (.tenantAPI, "tenant API"), (.operator, "operator"), (.inboxRead, "inbox read"), (.inboxWrite, "inbox write"),
        (.preferences, "preferences"), (.console, "console"), (.unsubscribe, "unsubscribe"), (.preferenceLink, "preference link"),
    ]

    /// `inbox read, inbox write, preferences`.
    public var description: String {
        let names = Self.named.filter { contains($0.scope) }.map(\.name)
        return names.isEmpty ? "nothing" : names.joined(separator: ", ")
    }
}
