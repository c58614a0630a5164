import Foundation

extension HeraldEngine {
    /// Renders each channel's template for sample data, as a subscriber with `locale` would receive it.
    /// Declared parameters the payload leaves out get sample values; email comes back finished: the
    /// subject, the HTML inside the tenant's layout, and the plain text (generated when the template has none).
    public func preview(tenantID: String, key: String, payload: [String: JSONValue], locale: String?) async throws
        -> (payload: [String: JSONValue], channels: [String: RenderedContent])
    {
        try await preview(tenantID: tenantID, eventType: try await eventType(tenantID: tenantID, key: key), payload: payload, locale: locale)
    }

    /// Renders a draft event type that is not saved yet (the console's live preview while a template is
    /// edited), after the same checks a save makes, so a preview never shows what a save would refuse.
    public func preview(tenantID: String, draft: EventType, payload: [String: JSONValue], locale: String?) async throws
        -> (payload: [String: JSONValue], channels: [String: RenderedContent])
    {
        let problems = validator.problems(draft)
        if !problems.isEmpty { throw HeraldError.invalid(problems.prefixed("event_type")) }
        return try await preview(tenantID: tenantID, eventType: draft, payload: payload, locale: locale)
    }

    private func preview(tenantID: String, eventType: EventType, payload: [String: JSONValue], locale: String?) async throws
        -> (payload: [String: JSONValue], channels: [String: RenderedContent])
    {
        let key = eventType.key
        let payload = Self.samplePayload(for: eventType, filling: payload)
        let subscriber = Subscriber(id: "preview", name: "Sample Subscriber", email: "subscriber@example.com", locale: locale)
        var rendered: [String: RenderedContent] = [:]
        for channel in eventType.channels {
            if channel == .email {
                let (message, content) = try await composeEmail(tenantID: tenantID, eventType: eventType, payload: payload, subscriber: subscriber)
                rendered[channel.rawValue] = RenderedContent(
                    locale: content.locale, parts: ["subject": message.subject, "html": message.html ?? "", "text": message.text ?? ""])
                continue
            }
            let event = try await sampleEvent(tenantID: tenantID, key: key, payload: payload)
            rendered[channel.rawValue] = try renderer.render(
                eventType: eventType, channel: channel, payload: payload, subscriber: subscriber, event: event)
        }
        return (payload, rendered)
    }

    /// Sends one email of the event type, outside the queue, to `address` or to subscriber `subscriberID`,
    /// and answers the transport's outcome with the SMTP transcript.
    ///
    /// The tenant's own SMTP server (and fallback) must pass the destination policy first: a refused host is a 422
    /// naming `smtp.host` (or `smtp_fallback.host`) and no connection is made, so the test cannot be used to read an
    /// internal service's greeting or to tell an open port from a closed one. A template that shows a subscriber
    /// field the recipient lacks (`{{subscriber.name}}` for a bare address) is a 422 too: a real subscriber without
    /// that field would get the fallback template or a failed message, and the test shows the same.
    public func sendTestEmail(tenantID: String, key: String, address: String?, subscriberID: String?, payload: [String: JSONValue], locale: String?)
        async throws -> EmailTester.Result
    {
        let eventType = try await eventType(tenantID: tenantID, key: key)
        var subscriber: Subscriber
        let recipientField = address == nil ? "subscriber_id" : "to"
        switch (address, subscriberID) {
        case (let address?, nil):
            if let problem = EmailAddress.problem(in: address) { throw HeraldError.invalid("to", problem) }
            subscriber = Subscriber(id: "test", email: address, locale: locale)
        case (nil, let id?):
            guard let found = try await store.subscriber(tenantID: tenantID, id: id) else { throw HeraldError.notFound("subscriber '\(id)'") }
            guard found.email != nil else { throw HeraldError.invalid("subscriber_id", "subscriber '\(id)' has no email address") }
            subscriber = found
            if let locale { subscriber.locale = locale }
        default:
            throw HeraldError.invalid("to", "give either `to` (an email address) or `subscriber_id`, not both or neither")
        }
        let payload = Self.samplePayload(for: eventType, filling: payload)
        let problems = EventTypeValidator.payloadProblems(payload, for: eventType)
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        let settings = try await emailSettings(tenantID: tenantID)
        let tester = EmailTester(outboxDirectory: URL(fileURLWithPath: configuration.outboxPath))
        // The first link of the chain the email would take: the tenant's own, else the server's. A provider API is
        // sent to as the queue would (its destination policy and circuit); an SMTP server with its transcript.
        let own = !settings.chain.isEmpty
        let first = own ? settings.chain.first : configuration.email.chain.first
        if let first, case .smtp = first {} else if let first, let channel = emailChannel {
            let transport = try channel.transport(for: first, tenant: own)
            let (_, _, email) = try await composeEmailForSending(
                tenantID: tenantID, eventType: eventType, payload: payload, subscriber: subscriber, settings: settings, recipientField: recipientField)
            return await tester.send(email, through: transport)
        }
        let addresses = try await vettedTenantSMTP(settings)
        let (_, _, email) = try await composeEmailForSending(
            tenantID: tenantID, eventType: eventType, payload: payload, subscriber: subscriber, settings: settings, recipientField: recipientField)
        var server: SMTPServerConfiguration?
        if case .smtp(let configured)? = first { server = configured }
        return await tester.send(email, server: server, addresses: addresses)
    }

    /// Checks the tenant's own SMTP servers against the destination policy before a test send, the stored settings
    /// as they are (saved, perhaps, before a rule existed): the addresses to connect to for the primary, or nil to
    /// use the operator's server by name. Throws a 422 naming the field when either server is refused.
    private func vettedTenantSMTP(_ settings: EmailSettings) async throws -> [IPAddress]? {
        guard case .smtp(let primary)? = settings.chain.first else { return nil }
        let policy = configuration.outbound.policy
        // The fields as the tenant wrote them: `smtp`, or the first link of `transports`.
        let field = settings.transports == nil ? "smtp" : "transports[0].smtp"
        var problems = primary.destinationProblems(prefix: field, policy: policy)
        problems += settings.smtpFallback?.destinationProblems(prefix: "smtp_fallback", policy: policy) ?? []
        if !problems.isEmpty { throw HeraldError.invalid(problems) }
        if let fallback = settings.smtpFallback {
            do {
                _ = try await policy.vet(host: fallback.host)
            } catch let refusal as DestinationRefusal {
                throw HeraldError.invalid("smtp_fallback.host", refusal.reason)
            } catch {
                // A fallback that does not resolve is not this test's concern: it sends through the primary.
            }
        }
        do {
            return try await policy.vet(host: primary.host)
        } catch let refusal as DestinationRefusal {
            throw HeraldError.invalid("\(field).host", refusal.reason)
        } catch {
            throw HeraldError.invalid("\(field).host", "cannot resolve \(primary.host): \(error)")
        }
    }

    func composeEmail(tenantID: String, eventType: EventType, payload: [String: JSONValue], subscriber: Subscriber) async throws
        -> (EmailMessage, RenderedContent)
    {
        let settings = try await emailSettings(tenantID: tenantID)
        let (message, content, _) = try await composeEmailForSending(
            tenantID: tenantID, eventType: eventType, payload: payload, subscriber: subscriber, settings: settings, recipientField: "subscriber")
        return (message, content)
    }

    /// Renders and encodes one email as the channel would. What the channel would fail the message for becomes a
    /// 422: a subscriber field the template shows and the recipient lacks (named by `recipientField`), or a value
    /// stored before today's rules that cannot go into an email (named `email`).
    private func composeEmailForSending(
        tenantID: String, eventType: EventType, payload: [String: JSONValue], subscriber: Subscriber, settings: EmailSettings,
        recipientField: String
    ) async throws -> (EmailMessage, RenderedContent, OutboundEmail) {
        guard eventType.channels.contains(.email) else { throw HeraldError.invalid("key", "event type '\(eventType.key)' has no email channel") }
        guard let channel = emailChannel else { throw HeraldError.invalid("channel", "this server has a custom email channel without a composer") }
        let event = try await sampleEvent(tenantID: tenantID, key: eventType.key, payload: payload)
        let content: RenderedContent
        do {
            content = try renderer.render(eventType: eventType, channel: .email, payload: payload, subscriber: subscriber, event: event)
        } catch TemplateRenderer.RenderError.missingData(_, _, let missing) {
            throw HeraldError.invalid(
                recipientField,
                "the email template shows \(missing.joined(separator: ", ")), which this recipient does not have; send to a subscriber "
                    + "who has it, or give the event type fallback_templates (what such a subscriber would receive)")
        }
        let claimed = ClaimedMessage(
            rowID: Int64(Date().timeIntervalSince1970 * 1000), tenantID: tenantID, eventID: event.id, channel: .email, priority: eventType.priority,
            attempt: 1, subscriber: subscriber)
        do {
            // Never tracked: the message is not stored, so its links would lead to a message that does not exist.
            var untracked = OutgoingMessage(
                message: claimed, event: event, content: content, emailTracking: EmailTracking(opens: false, clicks: false))
            // The event type's own files, as every event of the type carries them.
            untracked.attachments = eventType.attachments.compactMap(AttachmentIntake.stored)
            let (message, email) = try channel.composer.compose(untracked, settings: settings)
            return (message, content, email)
        } catch let error as MIMEError {
            throw HeraldError.invalid("email", "cannot be composed: \(error)")
        }
    }

    private func sampleEvent(tenantID: String, key: String, payload: [String: JSONValue]) async throws -> EventContext {
        let tenant = try await store.tenant(id: tenantID)
        return EventContext(id: "ev_preview", tenantID: tenantID, tenantName: tenant?.name ?? "", type: key, payload: payload, createdAt: Date())
    }

    /// The payload with a sample value for every declared parameter it lacks, so a template can be seen
    /// before any real event exists.
    static func samplePayload(for eventType: EventType, filling payload: [String: JSONValue]) -> [String: JSONValue] {
        var filled = payload
        for (name, spec) in eventType.parameters where filled[name] == nil {
            filled[name] =
                switch spec.type {
                case .string, .any: .string(name == "currency" ? "EUR" : "Sample \(name.replacingOccurrences(of: "_", with: " "))")
                case .number: 120.5
                case .integer: 3
                case .boolean: true
                case .datetime: .string(Timestamp.format(Date().addingTimeInterval(86_400)))
                case .url: .string("https://example.com/\(name)")
                case .object: .object([:])
                case .array: .array([])
                }
        }
        return filled
    }
}
