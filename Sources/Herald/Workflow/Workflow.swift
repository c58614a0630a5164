import Foundation

/// The steps an event type's notification takes for each recipient, when sending on every channel at
/// once is not enough: in-app first, email if it is still unread after 15 minutes, SMS if it is critical.
///
/// Optional: an event type without one sends on all its channels at once. With one, each recipient of
/// an event gets a stored *run* that the ``WorkflowRunner`` advances step by step (``WorkflowStepper``
/// decides, the store writes the decision with the step's messages in one transaction), so a crash
/// loses and repeats nothing.
///
/// In `herald.yml` and the API it is a list of steps:
///
/// ```yaml
/// workflow:
///   - send: in_app
///   - wait: 15m
///     until: read
///   - send: email
///     if: "subscriber.email != null"
/// ```
public struct Workflow: Sendable, Codable, Hashable {
    public var steps: [WorkflowStep]

    public init(steps: [WorkflowStep]) {
        self.steps = steps
    }

    public init(from decoder: any Decoder) throws {
        steps = try decoder.singleValueContainer().decode([WorkflowStep].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(steps)
    }

    /// At most this many steps: a workflow is a path a person can read, not a program.
    public static let maximumSteps = 20
}
