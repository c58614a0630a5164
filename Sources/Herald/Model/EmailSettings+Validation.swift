import Foundation

extension EmailSettings {
    /// A failover chain longer than this only delays the answer for an email nothing can send.
    static let maxTransports = 5

    /// Every problem with these settings, named by field, so `PUT /v1/settings/email` can answer all at once.
    /// `policy` judges the tenant's SMTP hosts (its own server and fallback) as the connect will.
    public func problems(policy: DestinationPolicy) -> [FieldError] {
        var problems: [FieldError] = []
        for (field, value) in [("from_address", fromAddress), ("reply_to", replyTo), ("unsubscribe_mailto", unsubscribeMailto)] {
            if let value, let problem = EmailAddress.problem(in: value) { problems.append(FieldError(field, problem)) }
        }
        // The display name of the From header: refused now by the same rule the encoder would refuse it with later.
        if let name = fromName, let reason = EmailHeader.problem(in: name) { problems.append(FieldError("from_name", reason)) }
        if let smtp { problems += smtp.problems(prefix: "smtp") + smtp.destinationProblems(prefix: "smtp", policy: policy) }
        if let smtpFallback {
            problems += smtpFallback.problems(prefix: "smtp_fallback") + smtpFallback.destinationProblems(prefix: "smtp_fallback", policy: policy)
            if smtp == nil { problems.append(FieldError("smtp_fallback", "needs smtp: it takes over from the tenant's own server")) }
        }
        if let transports {
            if smtp != nil || smtpFallback != nil {
                problems.append(FieldError("transports", "set either transports or smtp and smtp_fallback, not both"))
            }
            if transports.isEmpty { problems.append(FieldError("transports", "must name at least one transport, or be left out")) }
            if transports.count > Self.maxTransports {
                problems.append(FieldError("transports", "may name at most \(Self.maxTransports) transports"))
            }
            for (index, transport) in transports.enumerated() {
                problems += transport.problems(prefix: "transports[\(index)]", policy: policy)
            }
        }
        for (index, domain) in (allowedRecipientDomains ?? []).enumerated() {
            let valid = !domain.isEmpty && !domain.contains("@") && !domain.hasPrefix(".") && !domain.contains(" ") && domain.contains(".")
            if !valid { problems.append(FieldError("allowed_recipient_domains[\(index)]", "must be a domain such as hospital.example")) }
        }
        if let color = layout?.brandColor {
            if !EmailLayout.isHexColor(color) { problems.append(FieldError("layout.brand_color", "must be a hex colour such as #0b5cad")) }
        }
        if let domain = bounceDomain, let reason = DKIMSigner.problem(inDomain: domain) {
            problems.append(FieldError("bounce_domain", reason))
        }
        if let threshold = softBounceThreshold, let reason = Self.softBounceThresholdRule.problem(threshold) {
            problems.append(FieldError("soft_bounce_threshold", reason))
        }
        if let logo = layout?.logoURL, !(logo.hasPrefix("https://") || logo.hasPrefix("http://")) {
            problems.append(FieldError("layout.logo_url", "must be an absolute http or https URL"))
        }
        return problems
    }
}
