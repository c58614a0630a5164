extension EventType {
    /// What planning needs of the type, stored with each event (no templates): its priority, channels and
    /// defaults, and its flow control, so a topic fanned out later is planned exactly as the direct
    /// recipients were, even if the type is edited in between.
    public var plan: EventType {
        var plan = EventType(key: key, priority: priority, channels: channels, defaults: defaults)
        plan.dedup = dedup
        plan.rateLimit = rateLimit
        plan.onLimit = onLimit
        plan.digest = digest
        plan.appliedLimits = appliedLimits
        plan.workflow = workflow
        return plan
    }

    /// Whether planning has anything to do beyond preferences: dedup, a digest or a rate limit.
    var hasFlowControl: Bool {
        dedup != nil || digest != nil || !appliedLimits.isEmpty
    }
}
