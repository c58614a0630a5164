extension EventTypeValidator {
    /// Problems in an event type's `tracking`: switched on, it must have email to track, and a critical type's
    /// email is never tracked (an alarm must not wait on a redirect, nor carry a pixel), so saying otherwise
    /// is refused rather than silently ignored.
    func trackingProblems(_ eventType: EventType) -> [FieldError] {
        guard let tracking = eventType.tracking, tracking.isOn else { return [] }
        var errors: [FieldError] = []
        if !eventType.channels.contains(.email) {
            errors.append(FieldError("tracking", "tracks opens and clicks of email, and this event type has no email channel"))
        }
        if eventType.priority == .critical {
            errors.append(FieldError("tracking", "critical email is never tracked; switch tracking off or lower the priority"))
        }
        return errors
    }
}
