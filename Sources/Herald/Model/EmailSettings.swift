/// A tenant's email settings: who its email comes from, through which server, in what frame, and to
/// whom it may go. Every field is optional; what a tenant leaves out comes from the server's defaults.
///
/// Stored as one JSON document per tenant. `GET /v1/settings/email` never returns the SMTP password.
public struct EmailSettings: Sendable, Codable, Hashable {
    /// The From address, such as `notices@maplecourt.example`.
    public var fromAddress: String?
    public var fromName: String?
    public var replyTo: String?
    /// The tenant's own SMTP server; nil sends through the server's default transport.
    public var smtp: SMTPServerConfiguration?
    /// Takes over when `smtp` cannot be reached (its circuit is open): a second relay or provider.
    public var smtpFallback: SMTPServerConfiguration?
    public var layout: EmailLayout?
    /// When set and non-empty, email goes only to addresses in these domains (subdomains included);
    /// any other address is suppressed with reason `recipient_not_allowed`.
    public var allowedRecipientDomains: [String]?
    /// A mailbox that takes unsubscribe requests by mail, added to `List-Unsubscribe` beside the link.
    public var unsubscribeMailto: String?
    /// DKIM keys; every email is signed with the signing one once its MIME bytes are final.
    public var dkim: DKIMSettings?
    /// The domain of the VERP return path (`bounces+<signed id>@<domain>`) whose mail reaches Herald's
    /// inbound listener; nil uses the server's `email.bounce_domain`, and with neither the From address
    /// is the return path (bounces go to the sender's own mailbox).
    public var bounceDomain: String?
    /// How many soft bounces (mailbox full, greylisted too long) suppress an address; default 3.
    public var softBounceThreshold: Int?
    /// Whether critical emails still go to an address on the suppression list; default false.
    public var sendCriticalToSuppressed: Bool?
    /// The failover chain, in order: SMTP servers and provider APIs (`[{"ses": …}, {"smtp": …}]`). A link that
    /// cannot be used right now (down, its circuit open, its credentials refused) passes the email to the next
    /// without spending an attempt. `smtp` and `smtp_fallback` are the short form of a chain of SMTP servers;
    /// a tenant sets one form or the other.
    public var transports: [EmailTransportConfiguration]?
    /// Open and click tracking for the tenant's email (off by default; an event type may override it).
    public var tracking: EmailTracking?

    static let softBounceThresholdRule = NumberRule.whole(1...1_000)
    static let defaultSoftBounceThreshold = 3

    public init(
        fromAddress: String? = nil, fromName: String? = nil, replyTo: String? = nil, smtp: SMTPServerConfiguration? = nil,
        layout: EmailLayout? = nil, allowedRecipientDomains: [String]? = nil, unsubscribeMailto: String? = nil
    ) {
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.replyTo = replyTo
        self.smtp = smtp
        self.layout = layout
        self.allowedRecipientDomains = allowedRecipientDomains
        self.unsubscribeMailto = unsubscribeMailto
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case fromAddress = "from_address"
        case fromName = "from_name"
        case replyTo = "reply_to"
        case smtp, layout
        case smtpFallback = "smtp_fallback"
        case allowedRecipientDomains = "allowed_recipient_domains"
        case unsubscribeMailto = "unsubscribe_mailto"
        case dkim
        case bounceDomain = "bounce_domain"
        case softBounceThreshold = "soft_bounce_threshold"
        case sendCriticalToSuppressed = "send_critical_to_suppressed"
        case transports, tracking
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self, also: ReadOnlyField.names(.effective))
        fromAddress = try container.decodeIfPresent(String.self, forKey: .fromAddress)
        fromName = try container.decodeIfPresent(String.self, forKey: .fromName)
        replyTo = try container.decodeIfPresent(String.self, forKey: .replyTo)
        smtp = try container.decodeIfPresent(SMTPServerConfiguration.self, forKey: .smtp)
        smtpFallback = try container.decodeIfPresent(SMTPServerConfiguration.self, forKey: .smtpFallback)
        layout = try container.decodeIfPresent(EmailLayout.self, forKey: .layout)
        allowedRecipientDomains = try container.decodeIfPresent([String].self, forKey: .allowedRecipientDomains)
        unsubscribeMailto = try container.decodeIfPresent(String.self, forKey: .unsubscribeMailto)
        dkim = try container.decodeIfPresent(DKIMSettings.self, forKey: .dkim)
        bounceDomain = try container.decodeIfPresent(String.self, forKey: .bounceDomain)
        softBounceThreshold = try container.decodeIfPresent(Int.self, forKey: .softBounceThreshold, within: Self.softBounceThresholdRule)
        sendCriticalToSuppressed = try container.decodeIfPresent(Bool.self, forKey: .sendCriticalToSuppressed)
        transports = try container.decodeIfPresent([EmailTransportConfiguration].self, forKey: .transports)
        tracking = try container.decodeIfPresent(EmailTracking.self, forKey: .tracking)
    }

    /// The tenant's own failover chain (`transports`, or `smtp` then `smtp_fallback`); empty sends through the
    /// server's.
    public var chain: [EmailTransportConfiguration] {
        if let transports { return transports }
        return [smtp.map(EmailTransportConfiguration.smtp), smtpFallback.map(EmailTransportConfiguration.smtp)].compactMap { $0 }
    }

    /// Whether email may go to `address` under the allowed-domains rule.
    public func allowsRecipient(_ address: String) -> Bool {
        guard let domains = allowedRecipientDomains, !domains.isEmpty else { return true }
        guard let at = address.lastIndex(of: "@") else { return false }
        let domain = address[address.index(after: at)...].lowercased()
        return domains.contains { allowed in
            let allowed = allowed.lowercased()
            return domain == allowed || domain.hasSuffix("." + allowed)
        }
    }

    /// The same settings with secrets removed, for API answers and logs.
    public var redacted: EmailSettings {
        var copy = self
        copy.smtp = smtp?.redacted
        copy.smtpFallback = smtpFallback?.redacted
        copy.dkim = dkim?.redacted
        copy.transports = transports?.map(\.redacted)
        return copy
    }
}

/// The frame every email of a tenant is wrapped in: a brand-coloured header, the message, a footer.
/// `header_html` and `footer_html` are Mustache templates with the same data as the message.
public struct EmailLayout: Sendable, Codable, Hashable {
    /// A CSS colour such as `#0b5cad`, used for the header band and links.
    public var brandColor: String?
    public var headerHTML: String?
    public var footerHTML: String?
    public var logoURL: String?

    public init(brandColor: String? = nil, headerHTML: String? = nil, footerHTML: String? = nil, logoURL: String? = nil) {
        self.brandColor = brandColor
        self.headerHTML = headerHTML
        self.footerHTML = footerHTML
        self.logoURL = logoURL
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case brandColor = "brand_color"
        case headerHTML = "header_html"
        case footerHTML = "footer_html"
        case logoURL = "logo_url"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        brandColor = try container.decodeIfPresent(String.self, forKey: .brandColor)
        headerHTML = try container.decodeIfPresent(String.self, forKey: .headerHTML)
        footerHTML = try container.decodeIfPresent(String.self, forKey: .footerHTML)
        logoURL = try container.decodeIfPresent(String.self, forKey: .logoURL)
    }
}
