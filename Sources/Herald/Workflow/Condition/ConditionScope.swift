/// What a condition on one workflow step may refer to, for ``WorkflowCondition/problems(in:)``.
///
/// The checker needs the event type's parameters (so `payload.amout` is caught when the event type is saved, not
/// when the step silently never runs) and the step's position (a step can only look back at the steps before it).
public struct ConditionScope: Sendable {
    /// The parameters the event type declares; `payload.<name>` must name one of them.
    public var parameters: [String: ParameterSpec]
    /// How many steps come before this one: a condition may use `steps.0` to `steps.<earlierSteps - 1>`.
    public var earlierSteps: Int

    public init(parameters: [String: ParameterSpec] = [:], earlierSteps: Int = 0) {
        self.parameters = parameters
        self.earlierSteps = earlierSteps
    }
}
