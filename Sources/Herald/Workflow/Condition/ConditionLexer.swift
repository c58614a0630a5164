/// Splits a condition's source into tokens: names (`payload.amount`, `steps.0.read`), literals, keywords and operators.
///
/// Works on characters rather than bytes so every offset it reports is one a person can count in the condition they
/// wrote. The source is at most ``ConditionParser/maximumLength`` characters (checked before lexing), so the token list
/// is small and the lexer needs no limits of its own beyond the length of a number.
struct ConditionLexer {
    enum Keyword: String, CaseIterable {
        case and, or, not, `in`, null, `true`, `false`
    }

    enum Symbol: String {
        case openParenthesis = "(", closeParenthesis = ")", openBracket = "[", closeBracket = "]", comma = ","
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case bang = "!", ampersands = "&&", bars = "||"
    }

    enum Kind: Equatable {
        /// A dotted name, split at its dots: `payload.order.id` is `["payload", "order", "id"]`.
        case name([String])
        case string(String)
        case number(Double)
        case keyword(Keyword)
        case symbol(Symbol)
        case end
    }

    struct Token {
        var kind: Kind
        /// Zero-based character index of the token's first character.
        var offset: Int
        /// The token as written, for messages.
        var text: String
    }

    /// Longer number literals are refused: no threshold or amount needs more, and it bounds the text handed to `Double`.
    static let maximumNumberLength = 40

    private let characters: [Character]
    private var position = 0

    private init(_ source: String) {
        characters = Array(source)
    }

    /// The tokens of `source`, ending with one `.end` token placed just past the last character.
    static func tokens(in source: String) throws(WorkflowConditionError) -> [Token] {
        var lexer = ConditionLexer(source)
        var tokens: [Token] = []
        while let token = try lexer.next() {
            tokens.append(token)
        }
        tokens.append(Token(kind: .end, offset: lexer.characters.count, text: ""))
        return tokens
    }

    private mutating func next() throws(WorkflowConditionError) -> Token? {
        while position < characters.count, characters[position].isWhitespace {
            position += 1
        }
        guard position < characters.count else { return nil }
        let first = characters[position]
        if Self.startsName(first) { return name() }
        if Self.isDigit(first) || (first == "-" && character(at: position + 1).map(Self.isDigit) == true) {
            return try number()
        }
        if first == "'" || first == "\"" { return try string() }
        return try symbol()
    }

    private func character(at index: Int) -> Character? {
        index < characters.count ? characters[index] : nil
    }

    private func token(_ kind: Kind, from start: Int) -> Token {
        Token(kind: kind, offset: start, text: String(characters[start..<position]))
    }

    /// A name's first segment is an identifier; later ones may also start with a digit (`steps.0`, an array index)
    /// and hold hyphens (`payload.order.line-items`), since the language has no arithmetic for them to clash with.
    private mutating func name() -> Token {
        let start = position
        var segments = [scan(while: Self.continuesName)]
        while character(at: position) == ".", let next = character(at: position + 1), Self.isSegmentCharacter(next) {
            position += 1
            segments.append(scan(while: Self.isSegmentCharacter))
        }
        if segments.count == 1, let keyword = Keyword(rawValue: segments[0]) {
            return token(.keyword(keyword), from: start)
        }
        return token(.name(segments), from: start)
    }

    private mutating func number() throws(WorkflowConditionError) -> Token {
        let start = position
        if characters[position] == "-" { position += 1 }
        _ = scan(while: Self.isDigit)
        if character(at: position) == ".", let next = character(at: position + 1), Self.isDigit(next) {
            position += 1
            _ = scan(while: Self.isDigit)
        }
        if let e = character(at: position), e == "e" || e == "E" {
            let sign = character(at: position + 1)
            let hasSign = sign == "+" || sign == "-"
            if let digit = character(at: position + (hasSign ? 2 : 1)), Self.isDigit(digit) {
                position += hasSign ? 2 : 1
                _ = scan(while: Self.isDigit)
            }
        }
        let text = String(characters[start..<position])
        guard text.count <= Self.maximumNumberLength else {
            throw WorkflowConditionError(message: "a number may be at most \(Self.maximumNumberLength) characters long", offset: start)
        }
        guard let value = Double(text), value.isFinite else {
            throw WorkflowConditionError(message: "the number \(text) is too large", offset: start)
        }
        return token(.number(value), from: start)
    }

    /// Single or double quotes; `\\`, `\'` and `\"` are the only escapes, and a string ends on its line.
    private mutating func string() throws(WorkflowConditionError) -> Token {
        let start = position
        let quote = characters[position]
        position += 1
        var value = ""
        while true {
            guard let character = self.character(at: position), !character.isNewline else {
                throw WorkflowConditionError(message: "unterminated string (a string ends with its quote on the line it starts)", offset: start)
            }
            position += 1
            if character == quote { break }
            if character == "\\" {
                guard let escaped = self.character(at: position), !escaped.isNewline else {
                    throw WorkflowConditionError(message: "unterminated string (a string ends with its quote on the line it starts)", offset: start)
                }
                guard escaped == "\\" || escaped == "'" || escaped == "\"" else {
                    throw WorkflowConditionError(
                        message: "unknown escape \\\(Self.shown(escaped)) in a string (only \\\\, \\' and \\\" are allowed)", offset: position - 1)
                }
                position += 1
                value.append(escaped)
            } else {
                value.append(character)
            }
        }
        return token(.string(value), from: start)
    }

    private mutating func symbol() throws(WorkflowConditionError) -> Token {
        let start = position
        if let second = character(at: position + 1), let symbol = Symbol(rawValue: String([characters[position], second])) {
            position += 2
            return token(.symbol(symbol), from: start)
        }
        let first = characters[position]
        if let symbol = Symbol(rawValue: String(first)) {
            position += 1
            return token(.symbol(symbol), from: start)
        }
        let hint: String
        switch first {
        case "=": hint = " (use == to compare)"
        case "&": hint = " (use and or &&)"
        case "|": hint = " (use or or ||)"
        default: hint = ""
        }
        throw WorkflowConditionError(message: "unexpected character \(Self.shown(first))\(hint)", offset: start)
    }

    private mutating func scan(while accepts: (Character) -> Bool) -> String {
        let start = position
        while position < characters.count, accepts(characters[position]) {
            position += 1
        }
        return String(characters[start..<position])
    }

    /// A character quoted for a message; invisible or unusual ones by code point, so a message never carries a
    /// control character or a grapheme of a thousand combining marks.
    static func shown(_ character: Character) -> String {
        if character.isASCII, let scalar = character.unicodeScalars.first, scalar.value >= 0x20, scalar.value < 0x7F {
            return "'\(character)'"
        }
        if character.unicodeScalars.count == 1, character.unicodeScalars.first!.properties.isAlphabetic {
            return "'\(character)'"
        }
        let hex = String(character.unicodeScalars.first!.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    static func isDigit(_ character: Character) -> Bool { character.isASCII && character.isWholeNumber }

    static func startsName(_ character: Character) -> Bool { character.isASCII && (character.isLetter || character == "_") }

    static func continuesName(_ character: Character) -> Bool { startsName(character) || isDigit(character) }

    static func isSegmentCharacter(_ character: Character) -> Bool { continuesName(character) || character == "-" }
}
