extension EmailComposer {
    /// The finished HTML of `outgoing` with opens and clicks tracked as its tenant's settings and its event
    /// type say (``EmailTracking/overridden(by:)``); unchanged for a critical message, when neither switches
    /// anything on, or without ``trackingLinks``. Runs after the layout wrap and before MIME encoding, so DKIM
    /// signs the tracked bytes.
    func tracked(_ html: String, _ outgoing: OutgoingMessage, settings: EmailSettings, unsubscribeURL: String?) -> String {
        guard let trackingLinks, outgoing.message.priority != .critical else { return html }
        let tracking = (settings.tracking ?? EmailTracking()).overridden(by: outgoing.emailTracking)
        guard tracking.isOn else { return html }
        let rewriter = EmailLinkRewriter(
            links: trackingLinks, messageRow: outgoing.message.rowID, clicks: tracking.clicks == true, opens: tracking.opens == true,
            untracked: Set([unsubscribeURL].compactMap { $0 }))
        return rewriter.rewrite(html)
    }
}
