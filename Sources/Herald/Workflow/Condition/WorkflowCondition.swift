import Foundation

/// A workflow step's `if:` condition: `subscriber.email != null and payload.severity != 'low'`.
///
/// Parsed once, when the event type is saved (or read back), and kept with its source: the source is what is stored
/// and shown, the tree is what runs. Two conditions are equal when their sources are, so an unchanged event type
/// compares equal to the one stored. See `docs/workflow-conditions.md` for the language.
///
/// ```swift
/// let condition = try WorkflowCondition(parsing: "not steps.0.read and priority == 'high'")
/// let problems = condition.problems(in: ConditionScope(parameters: eventType.parameters, earlierSteps: 1))
/// if problems.isEmpty, condition.evaluate(context) { … }
/// ```
public struct WorkflowCondition: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The condition as written.
    public let source: String
    let expression: ConditionExpression

    /// Reads `source`, throwing on bad syntax or a passed limit (see ``WorkflowConditionError``). Names and types are
    /// not checked here, since that needs the event type: call ``problems(in:)``.
    public init(parsing source: String) throws(WorkflowConditionError) {
        self.source = source
        self.expression = try ConditionParser.parse(source)
    }

    /// Every type error and unknown name in the condition, for a step that sees `scope`; empty when it is sound.
    /// Each problem is a sentence naming the path or operator at fault: `payload.amout is not a parameter of this
    /// event type (did you mean 'payload.amount'?); it declares amount and currency`.
    public func problems(in scope: ConditionScope) -> [String] {
        ConditionChecker.problems(in: expression, scope: scope)
    }

    /// Whether the condition holds for `context`. Never fails: a missing value is null, and a value of the wrong type
    /// makes its comparison false.
    public func evaluate(_ context: ConditionContext) -> Bool {
        ConditionEvaluator(context: context).holds(expression)
    }

    public var description: String { source }

    public static func == (lhs: WorkflowCondition, rhs: WorkflowCondition) -> Bool { lhs.source == rhs.source }

    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    /// A condition is a JSON string holding its source; one that does not parse is refused with the parse error.
    public init(from decoder: any Decoder) throws {
        let source = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: source)
        } catch {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(source)
    }
}
