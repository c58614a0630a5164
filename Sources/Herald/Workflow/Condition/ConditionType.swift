/// The static type of a condition's value, as the checker sees it before any event exists.
///
/// No type is marked nullable: at run time every name may be null (a missing payload value, a subscriber without an
/// email, a step that has not run), and null is comparable with everything, so tracking it would refuse nothing.
/// `any` is what the checker cannot know (a payload parameter of type `object`, `array` or `any`, subscriber data):
/// it fits every rule, and the evaluator decides at run time.
enum ConditionType: Sendable, Hashable {
    case string, number, boolean, null, list, any

    /// How a parameter declared on the event type reads in a condition.
    init(_ kind: ParameterSpec.Kind) {
        switch kind {
        case .string, .datetime, .url: self = .string
        case .number, .integer: self = .number
        case .boolean: self = .boolean
        case .object, .array, .any: self = .any
        }
    }

    init(of value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool: self = .boolean
        case .number: self = .number
        case .string: self = .string
        case .array: self = .list
        case .object: self = .any
        }
    }

    /// The type in a sentence: "payload.amount is a number".
    var phrase: String {
        switch self {
        case .string: "a string"
        case .number: "a number"
        case .boolean: "true or false"
        case .null: "null"
        case .list: "a list"
        case .any: "anything"
        }
    }

    /// Whether a value of this type can be used where true or false is needed.
    var isBoolean: Bool { self == .boolean || self == .any }

    /// Whether `==` between the two can ever hold: the same type, or null or an unknown type on either side.
    func canEqual(_ other: ConditionType) -> Bool {
        self == other || self == .null || other == .null || self == .any || other == .any
    }

    /// Whether `<` and its kin apply: two numbers or two strings, an unknown type standing in for either.
    func canOrder(with other: ConditionType) -> Bool {
        let numbers: Set<ConditionType> = [.number, .any]
        let strings: Set<ConditionType> = [.string, .any]
        return (numbers.contains(self) && numbers.contains(other)) || (strings.contains(self) && strings.contains(other))
    }
}
