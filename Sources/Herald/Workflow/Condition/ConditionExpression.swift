/// A parsed condition: the tree the checker types and the evaluator walks.
///
/// `and` and `or` hold all the operands of a chain (`a and b and c`) rather than nesting pairs, so the depth of the
/// tree follows the parentheses and `not`s the parser already bounds, never the length of the condition: checking
/// and evaluating recurse over it without any risk to the stack. Parentheses leave no node of their own.
indirect enum ConditionExpression: Sendable, Hashable {
    enum Comparison: String, Sendable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

        var isOrdering: Bool { self != .equal && self != .notEqual }
    }

    /// `null`, `true`, `false`, a number or a string.
    case literal(JSONValue)
    /// A dotted name, split at its dots; what it names is decided by the checker and the evaluator.
    case path([String])
    case not(ConditionExpression)
    case and([ConditionExpression])
    case or([ConditionExpression])
    case compare(Comparison, ConditionExpression, ConditionExpression)
    /// `left in [items]`: the language allows a list only here, and only of literals.
    case membership(ConditionExpression, [JSONValue])

    /// The expression written back as source, for problems that name what they are about: in parentheses when it is
    /// more than a name or a literal, so it reads as one thing inside a sentence; long ones are cut short.
    var rendered: String {
        let text: String
        switch self {
        case .literal, .path: text = source
        default: text = "(\(source))"
        }
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }

    /// Source with only the parentheses the precedence needs (`or` < `and` < `not` < comparison).
    private var source: String {
        switch self {
        case .literal(let value): return Self.rendered(value)
        case .path(let segments): return segments.joined(separator: ".")
        case .not(let operand): return "not " + operand.source(bindingAbove: 2)
        case .and(let operands): return operands.map { $0.source(bindingAbove: 1) }.joined(separator: " and ")
        case .or(let operands): return operands.map { $0.source(bindingAbove: 0) }.joined(separator: " or ")
        case .compare(let comparison, let left, let right):
            return "\(left.source(bindingAbove: 3)) \(comparison.rawValue) \(right.source(bindingAbove: 3))"
        case .membership(let left, let items):
            return "\(left.source(bindingAbove: 3)) in [\(items.map(Self.rendered).joined(separator: ", "))]"
        }
    }

    /// How tightly this expression binds: 0 for `or` up to 4 for names and literals.
    private var binding: Int {
        switch self {
        case .or: 0
        case .and: 1
        case .not: 2
        case .compare, .membership: 3
        case .literal, .path: 4
        }
    }

    private func source(bindingAbove level: Int) -> String {
        binding > level ? source : "(\(source))"
    }

    /// A literal as it would be written: strings in single quotes, whole numbers without a fraction.
    static func rendered(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number):
            if abs(number) < 1e15, let whole = Int64(exactly: number) { return String(whole) }
            return String(number)
        case .string(let text):
            return "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        case .array: return "[...]"
        case .object: return "{...}"
        }
    }
}
