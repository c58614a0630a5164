/// How much of a tenant's tracked email was opened and clicked, for `GET /v1/stats` (`email_tracking`).
///
/// Counted over the email messages created in the window that were sent. Opens are an upper bound: mail
/// privacy proxies (Apple Mail Privacy Protection) and security scanners load the pixel of every email they
/// see, and some follow links too, so read opens as "at most" and clicks as the firmer figure. Email without
/// tracking counts in `sent` and never in the others.
public struct EmailEngagementCounts: Sendable, Codable, Hashable {
    /// Email messages sent (or delivered) in the window.
    public var sent = 0
    /// Of those, the ones opened at least once.
    public var opened = 0
    /// Every open, repeats included.
    public var opens = 0
    /// The ones with at least one click (on a tracked link, or `clicked_at` set otherwise).
    public var clicked = 0
    /// Every click, repeats included.
    public var clicks = 0

    public init(sent: Int = 0, opened: Int = 0, opens: Int = 0, clicked: Int = 0, clicks: Int = 0) {
        self.sent = sent
        self.opened = opened
        self.opens = opens
        self.clicked = clicked
        self.clicks = clicks
    }
}
