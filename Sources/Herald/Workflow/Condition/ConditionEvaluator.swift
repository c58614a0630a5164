/// Evaluates a parsed condition against one step's ``ConditionContext``.
///
/// Total by design, since a condition that type-checked when saved can still meet any payload: a name with no value
/// is null, ordering across types (or with null) is false, and a value that is not a boolean counts as false where a
/// boolean is needed. Nothing here can trap, and the recursion follows the tree, whose depth the parser bounds.
struct ConditionEvaluator {
    let context: ConditionContext

    /// Whether `expression` holds; anything but `true` counts as false.
    func holds(_ expression: ConditionExpression) -> Bool {
        switch expression {
        case .literal, .path: return value(of: expression) == .bool(true)
        case .not(let operand): return !holds(operand)
        case .and(let operands): return operands.allSatisfy(holds)
        case .or(let operands): return operands.contains(where: holds)
        case .compare(let comparison, let left, let right):
            return Self.compare(comparison, value(of: left), value(of: right))
        case .membership(let left, let items):
            let value = value(of: left)
            return items.contains { $0 == value }
        }
    }

    func value(of expression: ConditionExpression) -> JSONValue {
        switch expression {
        case .literal(let value): return value
        case .path(let segments): return lookUp(segments)
        default: return .bool(holds(expression))
        }
    }

    /// `==` is JSON equality (numbers by value, so 1 == 1.0; null equals only null); ordering needs two numbers or
    /// two strings.
    static func compare(_ comparison: ConditionExpression.Comparison, _ left: JSONValue, _ right: JSONValue) -> Bool {
        switch comparison {
        case .equal: return left == right
        case .notEqual: return left != right
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            switch (left, right) {
            case (.number(let a), .number(let b)): return order(comparison, a, b)
            case (.string(let a), .string(let b)): return order(comparison, a, b)
            default: return false
            }
        }
    }

    private static func order<T: Comparable>(_ comparison: ConditionExpression.Comparison, _ a: T, _ b: T) -> Bool {
        switch comparison {
        case .less: a < b
        case .lessOrEqual: a <= b
        case .greater: a > b
        case .greaterOrEqual: a >= b
        case .equal: a == b
        case .notEqual: a != b
        }
    }

    /// The value a name has in this context, null when it has none (a missing key, a step that did not run, a name
    /// the checker would have refused).
    func lookUp(_ segments: [String]) -> JSONValue {
        guard let root = segments.first else { return .null }
        switch root {
        case "payload":
            guard segments.count > 1 else { return .null }
            return Self.descend(into: context.payload[segments[1]] ?? .null, along: segments.dropFirst(2))
        case "subscriber":
            guard segments.count > 1 else { return .null }
            if segments[1] == "data" {
                guard segments.count > 2 else { return .null }
                return Self.descend(into: context.subscriber.data?[segments[2]] ?? .null, along: segments.dropFirst(3))
            }
            guard segments.count == 2 else { return .null }
            return subscriberField(segments[1])
        case "steps":
            guard segments.count == 3, segments[1].allSatisfy(ConditionLexer.isDigit), let number = Int(segments[1]),
                context.steps.indices.contains(number)
            else { return .null }
            let step = context.steps[number]
            switch segments[2] {
            case "status": return .string(step.status)
            case "read": return .bool(step.read)
            case "seen": return .bool(step.seen)
            case "clicked": return .bool(step.clicked)
            case "delivered": return .bool(step.delivered)
            case "opened": return .bool(step.opened)
            default: return .null
            }
        default:
            guard segments.count == 1 else { return .null }
            switch root {
            case "priority": return .string(context.priority.rawValue)
            case "tenant": return .string(context.tenantID)
            case "read": return .bool(context.read)
            case "seen": return .bool(context.seen)
            case "clicked": return .bool(context.clicked)
            case "delivered": return .bool(context.delivered)
            case "opened": return .bool(context.opened)
            default: return .null
            }
        }
    }

    private func subscriberField(_ field: String) -> JSONValue {
        let subscriber = context.subscriber
        let text: String? =
            switch field {
            case "id": subscriber.id
            case "name": subscriber.name
            case "email": subscriber.email
            case "phone": subscriber.phone
            case "locale": subscriber.locale
            case "timezone": subscriber.timezone
            default: nil
            }
        return text.map(JSONValue.string) ?? .null
    }

    /// Follows the rest of a name into objects by key and into arrays by index (`payload.lines.0.sku`).
    private static func descend(into value: JSONValue, along segments: ArraySlice<String>) -> JSONValue {
        var value = value
        for segment in segments {
            switch value {
            case .object(let members):
                value = members[segment] ?? .null
            case .array(let items):
                guard segment.allSatisfy(ConditionLexer.isDigit), let index = Int(segment), items.indices.contains(index) else { return .null }
                value = items[index]
            default:
                return .null
            }
        }
        return value
    }
}
