/// Where an email's tracked links point: `<public URL>/t/c/<token>` for a click, which redirects to the
/// original, and `<public URL>/t/o/<token>` for the open pixel. The token says which message and, for a
/// click, which URL (``EmailTrackingTokens``), so the server needs nothing else to answer.
public struct EmailTrackingLinks: Sendable {
    public static let clickPath = "/t/c/"
    public static let openPath = "/t/o/"

    public var tokens: EmailTrackingTokens
    /// The server's public URL (`email.public_url`), without a trailing slash.
    public var baseURL: String

    public init(tokens: EmailTrackingTokens, baseURL: String) {
        self.tokens = tokens
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
    }

    /// The tracked link that redirects to `url`, or nil when `url` cannot be tracked.
    public func clickURL(messageRow: Int64, url: String) -> String? {
        tokens.clickToken(messageRow: messageRow, url: url).map { baseURL + Self.clickPath + $0 }
    }

    public func openURL(messageRow: Int64) -> String {
        baseURL + Self.openPath + tokens.openToken(messageRow: messageRow)
    }

    /// Whether `url` is one of Herald's own pages (unsubscribe, preferences, an earlier tracked link): never
    /// tracked, so the pages that act on a link's own token keep receiving it first-hand.
    public func isOwn(_ url: String) -> Bool {
        let url = url.lowercased()
        let base = baseURL.lowercased()
        guard url.hasPrefix(base) else { return false }
        let rest = url.dropFirst(base.count)
        return rest.isEmpty || rest.first == "/" || rest.first == "?" || rest.first == "#"
    }
}
