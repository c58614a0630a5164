extension PreparedTrigger {
    /// Who should look once this trigger is committed: a general lane when it names subscribers, and the critical
    /// lane as well for a critical type (the critical lane takes at most its batch at a time; in a burst, an idle
    /// general lane takes the rest, most urgent first), the fan-out worker when it names a topic, and the workflow
    /// runner when its type has a workflow.
    var work: WakeSignal.Work {
        var work: WakeSignal.Work = []
        for recipient in trigger.recipients {
            switch recipient {
            case .topic: work.insert(.fanout)
            case .subscriber, .inline: work.formUnion(eventType.priority == .critical ? [.critical, .messages] : .messages)
            }
        }
        if eventType.workflow != nil { work.insert(.workflows) }
        return work
    }
}
