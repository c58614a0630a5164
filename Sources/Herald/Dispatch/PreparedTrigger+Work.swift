extension PreparedTrigger {
    /// Who should look once this trigger is committed: the lane for its priority when it names subscribers,
    /// the fan-out worker when it names a topic, and the workflow runner when its type has a workflow.
    var work: WakeSignal.Work {
        var work: WakeSignal.Work = []
        for recipient in trigger.recipients {
            switch recipient {
            case .topic: work.insert(.fanout)
            case .subscriber, .inline: work.insert(eventType.priority == .critical ? .critical : .messages)
            }
        }
        if eventType.workflow != nil { work.insert(.workflows) }
        return work
    }
}
