/// Types a parsed condition against what its step may see, collecting every problem rather than stopping at the first,
/// so whoever saves an event type fixes a condition in one round.
///
/// A name that cannot be resolved types as `any` afterwards, and an operator as its result whatever its operands:
/// one misspelt parameter is reported once, not again by every operator around it.
struct ConditionChecker {
    /// The values a step's status takes; comparing `steps.N.status` with anything else can never hold.
    static let stepStatuses = ["pending", "waiting", "skipped", "queued", "sent", "delivered", "failed", "suppressed", "done"]
    static let subscriberFields = ["id", "name", "email", "phone", "locale", "timezone"]
    static let stepFields = ["status", "read", "seen", "clicked", "delivered", "opened"]
    static let roots = ["payload", "subscriber", "priority", "tenant", "read", "seen", "clicked", "delivered", "opened", "steps"]

    /// A value's type and, for names whose values are a closed set (priority, a step's status), that set.
    private struct Typed {
        var type: ConditionType
        var name: String?
        var allowed: [String]?

        init(_ type: ConditionType, name: String? = nil, allowed: [String]? = nil) {
            self.type = type
            self.name = name
            self.allowed = allowed
        }
    }

    private let scope: ConditionScope
    private var problems: [String] = []

    private init(scope: ConditionScope) {
        self.scope = scope
    }

    static func problems(in expression: ConditionExpression, scope: ConditionScope) -> [String] {
        var checker = ConditionChecker(scope: scope)
        let typed = checker.check(expression)
        if !typed.type.isBoolean {
            checker.problems.append("a condition must be true or false, but \(expression.rendered) is \(typed.type.phrase)")
        }
        // The same slip twice (`NaN == NaN`) is one thing to fix.
        var seen: Set<String> = []
        return checker.problems.filter { seen.insert($0).inserted }
    }

    private mutating func check(_ expression: ConditionExpression) -> Typed {
        switch expression {
        case .literal(let value):
            return Typed(ConditionType(of: value))
        case .path(let segments):
            return resolve(segments)
        case .not(let operand):
            requireBoolean(operand, for: "not")
            return Typed(.boolean)
        case .and(let operands):
            for operand in operands { requireBoolean(operand, for: "and") }
            return Typed(.boolean)
        case .or(let operands):
            for operand in operands { requireBoolean(operand, for: "or") }
            return Typed(.boolean)
        case .compare(let comparison, let left, let right):
            let leftType = check(left)
            let rightType = check(right)
            if comparison.isOrdering {
                checkOrdering(comparison, left, leftType, right, rightType)
            } else {
                checkEquality(comparison.rawValue, left, leftType, [(right, rightType)])
            }
            return Typed(.boolean)
        case .membership(let left, let items):
            let leftType = check(left)
            checkEquality("in", left, leftType, items.map { (.literal($0), Typed(ConditionType(of: $0))) })
            return Typed(.boolean)
        }
    }

    private mutating func requireBoolean(_ operand: ConditionExpression, for keyword: String) {
        let type = check(operand).type
        guard !type.isBoolean else { return }
        problems.append("\(keyword) needs true or false, but \(operand.rendered) is \(type.phrase)")
    }

    private mutating func checkOrdering(
        _ comparison: ConditionExpression.Comparison, _ left: ConditionExpression, _ leftType: Typed, _ right: ConditionExpression,
        _ rightType: Typed
    ) {
        let symbol = comparison.rawValue
        if let name = leftType.allowed != nil ? leftType.name : rightType.allowed != nil ? rightType.name : nil {
            problems.append("'\(symbol)' cannot order \(name), whose values are names, not ranks; compare it with == or in")
        } else if !leftType.type.canOrder(with: rightType.type) {
            problems.append(
                "'\(symbol)' needs two numbers or two strings, but \(left.rendered) is \(leftType.type.phrase)"
                    + " and \(right.rendered) is \(rightType.type.phrase)")
        }
    }

    /// `==`, `!=` and `in`: each right-hand value must be able to equal the left, and a closed set of values must
    /// contain every literal it is compared with.
    private mutating func checkEquality(
        _ symbol: String, _ left: ConditionExpression, _ leftType: Typed, _ rights: [(ConditionExpression, Typed)]
    ) {
        for (right, rightType) in rights {
            if !leftType.type.canEqual(rightType.type) {
                problems.append(
                    "'\(symbol)' compares \(left.rendered), which is \(leftType.type.phrase), with \(right.rendered),"
                        + " which is \(rightType.type.phrase), so it can never match")
                continue
            }
            checkAllowed(leftType, against: right)
            checkAllowed(rightType, against: left)
        }
    }

    private mutating func checkAllowed(_ typed: Typed, against other: ConditionExpression) {
        guard let allowed = typed.allowed, let name = typed.name, case .literal(.string(let text)) = other, !allowed.contains(text) else {
            return
        }
        let hint = Self.suggestion(for: text, among: allowed).map { " (did you mean '\($0)'?)" } ?? ""
        problems.append("\(name) is one of \(Self.list(allowed, joinedBy: "or")), never \(other.rendered)\(hint)")
    }

    // MARK: Names

    private mutating func resolve(_ segments: [String]) -> Typed {
        let name = segments.joined(separator: ".")
        let shown = name.count > 60 ? String(name.prefix(57)) + "..." : name
        switch segments[0] {
        case "payload": return resolvePayload(segments, shown: shown)
        case "subscriber": return resolveSubscriber(segments, shown: shown)
        case "steps": return resolveStep(segments, shown: shown)
        case "priority", "tenant", "read", "seen", "clicked", "delivered", "opened":
            guard segments.count == 1 else { return fail("\(segments[0]) has no fields, so \(shown) names nothing") }
            switch segments[0] {
            case "priority": return Typed(.string, name: "priority", allowed: Priority.allCases.map(\.rawValue))
            case "tenant": return Typed(.string, name: "tenant")
            default: return Typed(.boolean, name: segments[0])
            }
        default:
            var hint = ""
            if segments.count == 1, scope.parameters[segments[0]] != nil {
                hint = " (did you mean 'payload.\(segments[0])'?)"
            } else if let root = Self.suggestion(for: segments[0], among: Self.roots) {
                hint = " (did you mean '\(([root] + segments.dropFirst()).joined(separator: "."))'?)"
            }
            return fail(
                "unknown name '\(shown)'\(hint); expected payload.…, subscriber.…, priority, tenant, read, seen, clicked, delivered,"
                    + " opened or steps.N.…")
        }
    }

    private mutating func resolvePayload(_ segments: [String], shown: String) -> Typed {
        guard segments.count > 1 else { return fail("payload needs a parameter name, like payload.amount") }
        let parameter = segments[1]
        guard let spec = scope.parameters[parameter] else {
            let declared = scope.parameters.keys.sorted()
            let hint = Self.suggestion(for: parameter, among: declared).map { " (did you mean 'payload.\($0)'?)" } ?? ""
            let known = declared.isEmpty ? "it declares none" : "it declares \(Self.list(declared.prefix(20).map { $0 }, joinedBy: "and"))"
            return fail("\(Self.short("payload." + parameter)) is not a parameter of this event type\(hint); \(known)")
        }
        guard segments.count == 2 else {
            guard spec.type == .object || spec.type == .any else {
                return fail(
                    "payload.\(parameter) is declared as \(spec.type.rawValue), so \(shown) names nothing;"
                        + " only object and any parameters have fields")
            }
            return Typed(.any, name: shown)
        }
        return Typed(ConditionType(spec.type), name: shown)
    }

    private mutating func resolveSubscriber(_ segments: [String], shown: String) -> Typed {
        let expected = "id, name, email, phone, locale, timezone or data.<key>"
        guard segments.count > 1 else { return fail("subscriber needs a field: subscriber.\(expected)") }
        let field = segments[1]
        if field == "data" {
            guard segments.count > 2 else { return fail("subscriber.data needs a key, like subscriber.data.plan") }
            return Typed(.any, name: shown)
        }
        guard Self.subscriberFields.contains(field) else {
            let hint = Self.suggestion(for: field, among: Self.subscriberFields + ["data"]).map { " (did you mean 'subscriber.\($0)'?)" } ?? ""
            return fail("unknown subscriber field in \(shown)\(hint); expected subscriber.\(expected)")
        }
        guard segments.count == 2 else { return fail("subscriber.\(field) is a string, so \(shown) names nothing") }
        return Typed(.string, name: shown)
    }

    private mutating func resolveStep(_ segments: [String], shown: String) -> Typed {
        guard segments.count > 1, !segments[1].isEmpty, segments[1].allSatisfy(ConditionLexer.isDigit) else {
            return fail("steps needs a step number, like steps.0.status")
        }
        let number = Int(segments[1]) ?? Int.max
        guard number < scope.earlierSteps else {
            let reach =
                switch scope.earlierSteps {
                case ...0: "this is the first step, so there are none"
                case 1: "only steps.0 comes before this step"
                default: "steps.0 to steps.\(scope.earlierSteps - 1) come before this step"
                }
            return fail("\(Self.short("steps." + segments[1])) is not an earlier step; \(reach)")
        }
        let fields = Self.list(Self.stepFields, joinedBy: "or")
        guard segments.count > 2 else { return fail("steps.\(segments[1]) needs a field: \(fields)") }
        let field = segments[2]
        guard Self.stepFields.contains(field) else {
            let hint = Self.suggestion(for: field, among: Self.stepFields).map { " (did you mean '\($0)'?)" } ?? ""
            return fail("unknown step field in \(shown)\(hint); expected \(fields)")
        }
        guard segments.count == 3 else { return fail("steps.\(segments[1]).\(field) has no fields, so \(shown) names nothing") }
        let name = "steps.\(segments[1]).\(field)"
        return field == "status" ? Typed(.string, name: name, allowed: Self.stepStatuses) : Typed(.boolean, name: name)
    }

    private mutating func fail(_ problem: String) -> Typed {
        problems.append(problem)
        return Typed(.any)
    }

    // MARK: Wording

    private static func short(_ text: String) -> String {
        text.count > 60 ? String(text.prefix(57)) + "..." : text
    }

    /// `a, b or c`.
    private static func list(_ words: [String], joinedBy conjunction: String) -> String {
        guard words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " \(conjunction) " + words.last!
    }

    /// The closest candidate within two edits (one for short words), for a did-you-mean; nil when none is that close.
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        SpellingSuggestion.closest(to: word, among: candidates, limit: word.count <= 4 ? 1 : 2)
    }
}
