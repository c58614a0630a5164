import Foundation

/// Turns one rendered email message into the bytes that go on the wire: sender from the tenant's
/// settings (or the server's), the subscriber as recipient, the tenant's layout around the body, the
/// unsubscribe headers of RFC 8058 for every non-critical email, and a Message-ID stable across retries.
public struct EmailComposer: Sendable {
    public var defaults: EmailDefaults
    public var layout: EmailLayoutRenderer
    /// Makes the one-click unsubscribe link for a tenant, subscriber and event type.
    public var unsubscribeURL: @Sendable (_ tenantID: String, _ subscriberID: String, _ eventType: String) -> String
    /// Signs the VERP return path, when a bounce domain is set (the tenant's or the server's).
    public var bounceAddresses: BounceAddresses?
    /// Makes the tracked links and open pixel of tenants and event types that switch tracking on; nil
    /// tracks nothing.
    public var trackingLinks: EmailTrackingLinks?

    public init(
        defaults: EmailDefaults, layout: EmailLayoutRenderer,
        unsubscribeURL: @escaping @Sendable (_ tenantID: String, _ subscriberID: String, _ eventType: String) -> String,
        bounceAddresses: BounceAddresses? = nil
    ) {
        self.defaults = defaults
        self.layout = layout
        self.unsubscribeURL = unsubscribeURL
        self.bounceAddresses = bounceAddresses
    }

    /// The envelope and message for `outgoing`, or an error saying why it cannot be an email.
    public func compose(_ outgoing: OutgoingMessage, settings: EmailSettings, date: Date = Date()) throws -> (EmailMessage, OutboundEmail) {
        let subscriber = outgoing.message.subscriber
        guard let address = subscriber.email else { throw MIMEError.invalidAddress("", reason: "the subscriber has no email address") }
        let sender = try EmailAddress(
            settings.fromAddress ?? defaults.fromAddress, name: settings.fromName ?? nonEmpty(outgoing.event.tenantName) ?? defaults.fromName)
        let recipient = try EmailAddress(address, name: subscriber.name)
        let replyTo = try (settings.replyTo ?? defaults.replyTo).map { try EmailAddress($0) }
        let critical = outgoing.message.priority == .critical
        let unsubscribe = critical ? nil : unsubscribeURL(outgoing.message.tenantID, subscriber.id, outgoing.event.type)

        let subject = outgoing.content["subject"] ?? ""
        let body = try layout.wrap(
            html: outgoing.content["html"] ?? "", text: outgoing.content["text"], subject: subject, locale: outgoing.content.locale,
            layout: settings.layout, tenantName: outgoing.event.tenantName,
            context: TemplateRenderer.context(payload: outgoing.event.payload, subscriber: subscriber, event: outgoing.event),
            unsubscribeURL: unsubscribe)

        var headers = [
            EmailHeader(name: "X-Herald-Message", value: Message.publicID(outgoing.message.rowID)),
            EmailHeader(name: "X-Herald-Event", value: outgoing.event.id),
            EmailHeader(name: "X-Herald-Event-Type", value: outgoing.event.type),
            // RFC 3834: tells auto-responders not to answer.
            EmailHeader(name: "Auto-Submitted", value: "auto-generated"),
        ]
        if let unsubscribe {
            var targets = ["<\(unsubscribe)>"]
            if let mailbox = settings.unsubscribeMailto ?? defaults.unsubscribeMailto {
                targets.append("<mailto:\(mailbox)?subject=unsubscribe>")
            }
            headers.append(EmailHeader(name: "List-Unsubscribe", value: targets.joined(separator: ", ")))
            headers.append(EmailHeader(name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click"))
        }
        let messageID = EmailMessage.makeMessageID(
            messageKey: Message.publicID(outgoing.message.rowID), eventID: outgoing.event.id, domain: sender.domain)
        let html = tracked(body.html, outgoing, settings: settings, unsubscribeURL: unsubscribe)
        let message = EmailMessage(
            from: sender, to: [recipient], replyTo: replyTo, subject: subject, html: html, text: body.text, messageID: messageID,
            date: date, extraHeaders: headers, attachments: outgoing.attachments)
        var bytes = try MIMEEncoder.encode(message)
        // Signed last, over the final bytes: nothing after this point may change them.
        if let signer = try settings.dkim?.signer(fromAddress: sender.address) { bytes = try signer.sign(bytes, at: date) }
        let returnPath = returnPath(messageRow: outgoing.message.rowID, settings: settings) ?? sender.address
        // Echoed by provider APIs on their bounce and complaint events, so a webhook finds the message and tenant.
        let tags = ["herald_message": Message.publicID(outgoing.message.rowID), "herald_tenant": outgoing.message.tenantID]
        return (
            message,
            OutboundEmail(
                sender: returnPath, recipient: recipient.address, messageID: messageID, bytes: bytes, message: message, tags: tags,
                priority: outgoing.message.priority)
        )
    }

    /// The VERP return path of a message, when the tenant or the server names a bounce domain.
    public func returnPath(messageRow: Int64, settings: EmailSettings) -> String? {
        guard let bounceAddresses, let domain = settings.bounceDomain ?? defaults.bounceDomain else { return nil }
        return bounceAddresses.address(messageRow: messageRow, domain: domain)
    }

    private func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
}
