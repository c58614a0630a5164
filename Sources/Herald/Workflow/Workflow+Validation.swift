import Foundation

extension Workflow {
    /// Everything wrong with this workflow for `eventType`, each problem naming its step
    /// (`workflow[2].if`): channels the type does not have, conditions that do not parse against its
    /// parameters, waits shorter than the server allows or longer than the type's events are kept.
    public func problems(for eventType: EventType, limits: WorkflowLimits) -> [FieldError] {
        var errors: [FieldError] = []
        if steps.isEmpty { errors.append(FieldError("workflow", "must have at least one step, or be left out")) }
        if steps.count > Self.maximumSteps { errors.append(FieldError("workflow", "has \(steps.count) steps; at most \(Self.maximumSteps)")) }
        if !steps.contains(where: { if case .send = $0.action { true } else { false } }) {
            errors.append(FieldError("workflow", "never sends: add a send step"))
        }
        let retention = Double(eventType.retentionDays ?? limits.retentionDays) * 86_400
        for (index, step) in steps.enumerated() {
            let field = "workflow[\(index)]"
            if let condition = step.condition {
                let scope = ConditionScope(parameters: eventType.parameters, earlierSteps: index)
                errors += condition.problems(in: scope).map { FieldError("\(field).if", $0) }
            }
            switch step.action {
            case .send(let channels, let mode):
                if channels.isEmpty { errors.append(FieldError("\(field).send", "must name a channel")) }
                if Set(channels).count != channels.count { errors.append(FieldError("\(field).send", "lists a channel twice")) }
                for channel in channels where !eventType.channels.contains(channel) {
                    errors.append(
                        FieldError(
                            "\(field).send", "'\(channel.rawValue)' is not one of this event type's channels (\(eventType.channels.map(\.rawValue).joined(separator: ", ")))"))
                }
                if mode == .firstSuccess, channels.count < 2 {
                    errors.append(FieldError("\(field).mode", "first_success needs at least two channels to fall back between"))
                }
            case .wait(let wait):
                if let duration = wait.duration {
                    guard let seconds = wait.seconds else {
                        errors.append(FieldError("\(field).wait", "'\(duration)' is not a duration like 15m or 1h30m"))
                        continue
                    }
                    if seconds < limits.minimumWaitSeconds {
                        errors.append(
                            FieldError("\(field).wait", "is shorter than this server allows (\(Self.describe(limits.minimumWaitSeconds)))"))
                    }
                    if seconds >= retention {
                        errors.append(
                            FieldError(
                                "\(field).wait",
                                "is longer than this event type's events are kept (\(eventType.retentionDays ?? limits.retentionDays) days); the run would outlive its event"))
                    }
                } else if wait.clockTime == nil {
                    errors.append(FieldError("\(field).wait_until", "'\(wait.timeOfDay ?? "")' is not a time of day like 09:00"))
                }
                guard let until = wait.until, let channels = until.channels, !channels.contains(where: eventType.channels.contains) else { break }
                let names = channels.map(\.rawValue).joined(separator: " or ")
                errors.append(
                    FieldError(
                        "\(field).until", "'\(until.rawValue)' happens only to \(names) messages, and this event type has no \(names) channel"))
            case .digest(let digest):
                errors += digest.problems(prefix: "\(field).digest")
                if eventType.priority == .critical {
                    errors.append(FieldError("\(field).digest", "a critical event type is never held for a digest"))
                }
            }
        }
        let total = steps.compactMap { step -> Double? in if case .wait(let wait) = step.action { wait.seconds ?? 86_400 } else { nil } }.reduce(0, +)
        if total >= retention, steps.count > 1 {
            errors.append(FieldError("workflow", "its waits add up to more than this event type's events are kept; the run would outlive its event"))
        }
        return errors
    }

    static func describe(_ seconds: Double) -> String {
        Int64(exactly: seconds / 60).map { "\($0)m" } ?? Int64(exactly: seconds).map { "\($0)s" } ?? "\(seconds)s"
    }
}
