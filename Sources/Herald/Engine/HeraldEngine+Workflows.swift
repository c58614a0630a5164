import Foundation

extension HeraldEngine {
    /// What a workflow (the event type's, or a draft not yet saved) would do for a sample payload and
    /// subscriber (a stored one by id, with their preferences, or one given inline), planned by the same
    /// code as a real run.
    public func previewWorkflow(
        tenantID: String, eventTypeKey: String, workflow draft: Workflow?, payload: [String: JSONValue], subscriberID: String?,
        subscriber inline: SubscriberInput?, assumeRead: Bool
    ) async throws -> WorkflowPreview {
        var eventType = try await eventType(tenantID: tenantID, key: eventTypeKey)
        if let draft { eventType.workflow = draft }
        guard let workflow = eventType.workflow else {
            throw HeraldError.invalid("workflow", "event type '\(eventTypeKey)' has no workflow; give one to preview")
        }
        let problems = workflow.problems(for: eventType, limits: validator.workflowLimits)
        var subscriber = Subscriber(id: inline?.id ?? "preview", name: inline?.name, email: inline?.email, phone: inline?.phone)
        subscriber.timezone = inline?.timezone
        subscriber.locale = inline?.locale
        subscriber.data = inline?.data
        var rules: [PreferenceRule] = []
        if let subscriberID {
            guard let stored = try await store.subscriber(tenantID: tenantID, id: subscriberID),
                let own = try await store.preferences(tenantID: tenantID, subscriberID: subscriberID)
            else { throw HeraldError.notFound("subscriber '\(subscriberID)'") }
            subscriber = stored
            rules = own.filter { $0.eventType == eventType.key || $0.eventType == "*" }
        }
        guard problems.isEmpty else { return WorkflowPreview(problems: problems, steps: [], outcome: nil) }
        var planning = eventType
        planning.workflow = nil
        let recipient = RecipientRecord(rowID: 0, subscriber: subscriber, rules: rules)
        let resolver = PreferenceResolver(tenantRules: try await store.tenantPreferences(tenantID: tenantID))
        let email = try await emailSettings(tenantID: tenantID)
        let now = clock.now()
        let (steps, outcome) = WorkflowPreview.simulate(
            workflow, context: ConditionContext(payload: payload, subscriber: subscriber, priority: eventType.priority, tenantID: tenantID),
            timeZone: MessagePlanner.timeZone(of: subscriber), assumeRead: assumeRead, now: now
        ) { channel, digest in
            var type = planning
            if let digest { type.digest = digest }
            return MessagePlanner(eventType: type, preferences: resolver, email: email, dueAt: now).plan(recipient, channel)
        }
        return WorkflowPreview(problems: [], steps: steps, outcome: outcome)
    }
}
