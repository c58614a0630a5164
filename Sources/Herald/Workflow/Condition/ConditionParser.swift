/// Reads a condition into a ``ConditionExpression`` by recursive descent, loosest binding first:
///
/// ```
/// condition  = or
/// or         = and (("or" | "||") and)*
/// and        = unary (("and" | "&&") unary)*
/// unary      = ("not" | "!")* comparison
/// comparison = operand (("==" | "!=" | "<" | "<=" | ">" | ">=") operand | "in" list)?
/// operand    = "null" | "true" | "false" | number | string | name | "(" or ")"
/// list       = "[" (literal ("," literal)*)? "]"
/// ```
///
/// Conditions come from whoever may save an event type, so every limit is enforced while reading: the source length
/// (1,000 characters, 4,000 bytes of UTF-8) before anything else, the depth of parentheses and `not`s as they open
/// (the recursion is a few frames per level, so it stays far from the stack's end whatever the input), the length
/// of lists as they grow.
struct ConditionParser {
    typealias Token = ConditionLexer.Token

    static let maximumLength = 1_000
    static let maximumDepth = 32
    static let maximumListItems = 100

    private let tokens: [Token]
    private var index = 0
    private var depth = 0

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    static func parse(_ source: String) throws(WorkflowConditionError) -> ConditionExpression {
        // `prefix` stops counting at the limit, so a megabyte of text costs no more than a thousand characters; the
        // byte bound stops one "character" of a million combining marks.
        guard source.utf8.count <= 4 * maximumLength, source.prefix(maximumLength + 1).count <= maximumLength else {
            throw WorkflowConditionError(message: "a condition may be at most 1,000 characters long")
        }
        let tokens = try ConditionLexer.tokens(in: source)
        guard tokens.count > 1 else { throw WorkflowConditionError(message: "the condition is empty") }
        var parser = ConditionParser(tokens: tokens)
        let expression = try parser.parseOr()
        guard case .end = parser.current.kind else { throw parser.unexpected() }
        return expression
    }

    private var current: Token { tokens[index] }

    private mutating func advance() {
        if index < tokens.count - 1 { index += 1 }
    }

    private func currentIs(_ symbol: ConditionLexer.Symbol) -> Bool { current.kind == .symbol(symbol) }

    private func currentIs(_ keyword: ConditionLexer.Keyword) -> Bool { current.kind == .keyword(keyword) }

    private mutating func parseOr() throws(WorkflowConditionError) -> ConditionExpression {
        var operands = [try parseAnd()]
        while currentIs(.or) || currentIs(.bars) {
            advance()
            operands.append(try parseAnd())
        }
        return operands.count == 1 ? operands[0] : .or(operands)
    }

    private mutating func parseAnd() throws(WorkflowConditionError) -> ConditionExpression {
        var operands = [try parseUnary()]
        while currentIs(.and) || currentIs(.ampersands) {
            advance()
            operands.append(try parseUnary())
        }
        return operands.count == 1 ? operands[0] : .and(operands)
    }

    /// A run of `not`s is read in a loop, each counted as a level of nesting, so `not not … x` is bounded like `((…))`.
    private mutating func parseUnary() throws(WorkflowConditionError) -> ConditionExpression {
        var negations = 0
        while currentIs(.not) || currentIs(.bang) {
            try enterLevel()
            negations += 1
            advance()
        }
        var expression = try parseComparison()
        depth -= negations
        for _ in 0..<negations {
            expression = .not(expression)
        }
        return expression
    }

    private mutating func parseComparison() throws(WorkflowConditionError) -> ConditionExpression {
        let left = try parseOperand()
        let expression: ConditionExpression
        if case .symbol(let symbol) = current.kind, let comparison = ConditionExpression.Comparison(rawValue: symbol.rawValue) {
            advance()
            expression = .compare(comparison, left, try parseOperand())
        } else if currentIs(.in) {
            advance()
            expression = .membership(left, try parseList())
        } else {
            return left
        }
        if startsComparison(current) {
            throw WorkflowConditionError(message: "comparisons cannot be chained (join them with and)", offset: current.offset)
        }
        return expression
    }

    private func startsComparison(_ token: Token) -> Bool {
        if case .symbol(let symbol) = token.kind, ConditionExpression.Comparison(rawValue: symbol.rawValue) != nil { return true }
        return token.kind == .keyword(.in)
    }

    private mutating func parseOperand() throws(WorkflowConditionError) -> ConditionExpression {
        let token = current
        if let value = literal(token) {
            advance()
            return .literal(value)
        }
        switch token.kind {
        case .name(let segments):
            advance()
            return .path(segments)
        case .symbol(.openParenthesis):
            try enterLevel()
            advance()
            let inner = try parseOr()
            guard currentIs(.closeParenthesis) else { throw unexpected(expecting: "')' to close the '(' at character \(token.offset + 1)") }
            advance()
            depth -= 1
            return inner
        case .symbol(.openBracket):
            throw WorkflowConditionError(message: "a list can only follow in, as in payload.kind in ['a', 'b']", offset: token.offset)
        default:
            throw unexpected(expecting: "a value")
        }
    }

    private mutating func parseList() throws(WorkflowConditionError) -> [JSONValue] {
        guard currentIs(.openBracket) else { throw unexpected(expecting: "a list after in, like ['a', 'b']") }
        advance()
        var items: [JSONValue] = []
        if currentIs(.closeBracket) {
            advance()
            return items
        }
        while true {
            guard items.count < Self.maximumListItems else {
                throw WorkflowConditionError(message: "a list may hold at most \(Self.maximumListItems) items", offset: current.offset)
            }
            guard let item = literal(current) else {
                throw unexpected(expecting: "a string, a number, true, false or null (a list holds only literal values)")
            }
            items.append(item)
            advance()
            if currentIs(.comma) {
                advance()
            } else if currentIs(.closeBracket) {
                advance()
                return items
            } else {
                throw unexpected(expecting: "',' or ']'")
            }
        }
    }

    private func literal(_ token: Token) -> JSONValue? {
        switch token.kind {
        case .keyword(.null): .null
        case .keyword(.true): .bool(true)
        case .keyword(.false): .bool(false)
        case .number(let number): .number(number)
        case .string(let text): .string(text)
        default: nil
        }
    }

    private mutating func enterLevel() throws(WorkflowConditionError) {
        guard depth < Self.maximumDepth else {
            throw WorkflowConditionError(
                message: "the condition is nested too deeply (at most \(Self.maximumDepth) levels of parentheses and not)", offset: current.offset)
        }
        depth += 1
    }

    private func unexpected(expecting expected: String? = nil) -> WorkflowConditionError {
        let found = Self.described(current)
        let message = expected.map { "unexpected \(found) (expected \($0))" } ?? "unexpected \(found)"
        return WorkflowConditionError(message: message, offset: current.offset)
    }

    /// A token as a message names it; a keyword written in capitals gets a hint, since the keywords are lower-case.
    private static func described(_ token: Token) -> String {
        let text = token.text.count > 40 ? String(token.text.prefix(37)) + "..." : token.text
        switch token.kind {
        case .end: return "end of condition"
        case .string: return "string \(text)"
        case .number: return "number \(text)"
        case .name(let segments):
            if segments.count == 1, let keyword = ConditionLexer.Keyword(rawValue: segments[0].lowercased()) {
                return "'\(text)' (keywords are lower-case: \(keyword.rawValue))"
            }
            return "name \(text)"
        case .keyword, .symbol: return "'\(text)'"
        }
    }
}
