import Foundation
import Herald

/// Checks a JSON value against a JSON Schema (2020-12, as OpenAPI 3.1 uses it), for the keywords Herald's OpenAPI
/// document uses, so the test suite can hold every body it exchanges to the document.
///
/// Only a subset is implemented, and on purpose nothing outside it passes quietly: a schema with a keyword this
/// validator does not know is itself a violation (``knownKeywords``), so the document cannot start relying on a rule
/// the tests do not check. `$ref` resolves JSON pointers into the document (`#/components/schemas/Problem`).
///
/// OpenAPI's `readOnly` and `writeOnly` decide which side must carry a required property: a `readOnly` one is not
/// required of a request, a `writeOnly` one not of a response (``Direction``).
struct JSONSchemaValidator {
    /// The whole document the schemas belong to, which `$ref`s point into.
    let document: JSONValue

    /// Which way a body travels.
    enum Direction: Sendable { case request, response }

    /// One rule a value breaks: where in the value (a JSON pointer), which schema rule (where in the document, and
    /// which keyword) and why.
    struct Violation: Sendable, Hashable, CustomStringConvertible {
        var pointer: String
        var schemaPath: String
        var keyword: String
        var message: String

        var description: String { "at \(pointer.isEmpty ? "(root)" : pointer): \(message) [\(schemaPath)/\(keyword)]" }
    }

    /// The keywords this validator checks, and the annotations it may ignore. Any other keyword in a schema is reported.
    static let knownKeywords: Set<String> = [
        "$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "propertyNames", "minProperties",
        "maxProperties", "items", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern", "format",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "allOf", "anyOf", "oneOf", "not",
        // Annotations: they say something to readers and generators, nothing a value can break.
        "description", "title", "default", "example", "examples", "readOnly", "writeOnly", "deprecated", "$comment",
        "contentMediaType", "contentEncoding",
    ]

    func validate(_ value: JSONValue, against schema: JSONValue, schemaPath: String, direction: Direction) -> [Violation] {
        var violations: [Violation] = []
        check(value, schema, at: Location(pointer: "", schemaPath: schemaPath, direction: direction, depth: 0), into: &violations)
        return violations
    }

    /// Where the check is: in the value, in the document, which way the value travels and how deep the schemas nest.
    private struct Location {
        var pointer: String
        var schemaPath: String
        var direction: Direction
        var depth: Int

        func violation(_ keyword: String, _ message: String) -> Violation {
            Violation(pointer: pointer, schemaPath: schemaPath, keyword: keyword, message: message)
        }

        /// One level down: into a member or item of the value (`token`) and a subschema (`schema`).
        func child(token: String? = nil, schema: String) -> Location {
            Location(
                pointer: token.map { pointer + "/" + JSONSchemaValidator.escape($0) } ?? pointer, schemaPath: schemaPath + "/" + schema,
                direction: direction, depth: depth + 1)
        }
    }

    // MARK: - The keywords

    private func check(_ value: JSONValue, _ schema: JSONValue, at location: Location, into violations: inout [Violation]) {
        guard location.depth < 64 else { return violations.append(location.violation("$ref", "schemas nest deeper than 64 levels (a cycle?)")) }
        let rules: [String: JSONValue]
        switch schema {
        case .bool(true): return
        case .bool(false): return violations.append(location.violation("false", "no value is allowed here"))
        case .object(let members): rules = members
        default: return violations.append(location.violation("", "the schema is not an object or a boolean"))
        }
        for keyword in rules.keys.sorted() where !Self.knownKeywords.contains(keyword) {
            violations.append(location.violation(keyword, "the schema uses `\(keyword)`, which this validator does not check"))
        }
        if case .string(let reference)? = rules["$ref"] {
            if let target = resolve(reference) {
                var inside = location
                inside.schemaPath = reference
                inside.depth += 1
                check(value, target, at: inside, into: &violations)
            } else {
                violations.append(location.violation("$ref", "\(reference) does not resolve in the document"))
            }
        }
        if let types = rules["type"] {
            let allowed: [String]
            if case .array(let names) = types { allowed = names.compactMap(\.stringValue) } else { allowed = types.stringValue.map { [$0] } ?? [] }
            if !allowed.contains(where: { Self.has(value, type: $0) }) {
                violations.append(location.violation("type", "\(Self.describe(value)) is not of type \(allowed.joined(separator: " or "))"))
            }
        }
        if case .array(let options)? = rules["enum"], !options.contains(value) {
            let listed = options.map { $0.jsonText() }.joined(separator: ", ")
            violations.append(location.violation("enum", "\(Self.describe(value)) is not one of \(listed)"))
        }
        if let constant = rules["const"], constant != value {
            violations.append(location.violation("const", "\(Self.describe(value)) is not \(constant.jsonText())"))
        }
        switch value {
        case .object(let members): checkObject(members, rules, at: location, into: &violations)
        case .array(let elements): checkArray(elements, rules, at: location, into: &violations)
        case .string(let text): violations += Self.stringViolations(text, rules, at: location)
        case .number(let number): violations += Self.numberViolations(number, rules, at: location)
        case .null, .bool: break
        }
        checkCombinations(value, rules, at: location, into: &violations)
    }

    private func checkObject(_ members: [String: JSONValue], _ rules: [String: JSONValue], at location: Location, into violations: inout [Violation])
    {
        let properties: [String: JSONValue]
        if case .object(let declared)? = rules["properties"] { properties = declared } else { properties = [:] }
        if case .array(let required)? = rules["required"] {
            for name in required.compactMap(\.stringValue).sorted() where members[name] == nil {
                // OpenAPI: a read-only property is only ever sent by the server, a write-only one only by the client.
                let property = properties[name].map(resolvedOnce) ?? .null
                if location.direction == .request, property["readOnly"] == .bool(true) { continue }
                if location.direction == .response, property["writeOnly"] == .bool(true) { continue }
                violations.append(location.violation("required", "the required property `\(name)` is missing"))
            }
        }
        for (name, member) in members.sorted(by: { $0.key < $1.key }) {
            if let property = properties[name] {
                check(member, property, at: location.child(token: name, schema: "properties/" + Self.escape(name)), into: &violations)
            } else if let additional = rules["additionalProperties"] {
                if additional == .bool(false) {
                    violations.append(
                        location.child(token: name, schema: "additionalProperties").violation(
                            "additionalProperties", "the property `\(name)` is not in the schema"))
                } else {
                    check(member, additional, at: location.child(token: name, schema: "additionalProperties"), into: &violations)
                }
            }
            if let names = rules["propertyNames"] {
                check(.string(name), names, at: location.child(token: name, schema: "propertyNames"), into: &violations)
            }
        }
        if let least = rules["minProperties"]?.doubleValue, Double(members.count) < least {
            violations.append(location.violation("minProperties", "\(members.count) properties, fewer than \(Int(least))"))
        }
        if let most = rules["maxProperties"]?.doubleValue, Double(members.count) > most {
            violations.append(location.violation("maxProperties", "\(members.count) properties, more than \(Int(most))"))
        }
    }

    private func checkArray(_ elements: [JSONValue], _ rules: [String: JSONValue], at location: Location, into violations: inout [Violation]) {
        if let items = rules["items"] {
            for (index, element) in elements.enumerated() {
                check(element, items, at: location.child(token: String(index), schema: "items"), into: &violations)
            }
        }
        if let least = rules["minItems"]?.doubleValue, Double(elements.count) < least {
            violations.append(location.violation("minItems", "\(elements.count) items, fewer than \(Int(least))"))
        }
        if let most = rules["maxItems"]?.doubleValue, Double(elements.count) > most {
            violations.append(location.violation("maxItems", "\(elements.count) items, more than \(Int(most))"))
        }
        if rules["uniqueItems"] == .bool(true), Set(elements).count != elements.count {
            violations.append(location.violation("uniqueItems", "the items are not unique"))
        }
    }

    private static func stringViolations(_ text: String, _ rules: [String: JSONValue], at location: Location) -> [Violation] {
        var violations: [Violation] = []
        let length = Double(text.unicodeScalars.count)
        if let least = rules["minLength"]?.doubleValue, length < least {
            violations.append(location.violation("minLength", "\(Int(length)) characters, fewer than \(Int(least))"))
        }
        if let most = rules["maxLength"]?.doubleValue, length > most {
            violations.append(location.violation("maxLength", "\(Int(length)) characters, more than \(Int(most))"))
        }
        if case .string(let pattern)? = rules["pattern"] {
            // ICU's syntax, which agrees with ECMA-262's for the patterns a schema uses (classes, anchors, counts).
            if let expression = try? NSRegularExpression(pattern: pattern) {
                if expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                    violations.append(location.violation("pattern", "\(describe(.string(text))) does not match /\(pattern)/"))
                }
            } else {
                violations.append(location.violation("pattern", "/\(pattern)/ is not a regular expression this validator can compile"))
            }
        }
        if case .string(let format)? = rules["format"], let valid = formats[format], !valid(text) {
            violations.append(location.violation("format", "\(describe(.string(text))) is not a valid \(format)"))
        }
        return violations
    }

    private static func numberViolations(_ number: Double, _ rules: [String: JSONValue], at location: Location) -> [Violation] {
        let shown = describe(.number(number))
        let bounds: [(String, (Double, Double) -> Bool, String)] = [
            ("minimum", { $0 < $1 }, "is less than"), ("maximum", { $0 > $1 }, "is more than"),
            ("exclusiveMinimum", { $0 <= $1 }, "is not more than"), ("exclusiveMaximum", { $0 >= $1 }, "is not less than"),
        ]
        var violations: [Violation] = []
        for (keyword, breaks, wording) in bounds {
            if let bound = rules[keyword]?.doubleValue, breaks(number, bound) {
                violations.append(location.violation(keyword, "\(shown) \(wording) \(describe(.number(bound)))"))
            }
        }
        if let step = rules["multipleOf"]?.doubleValue, step > 0, (number / step).rounded() != number / step {
            violations.append(location.violation("multipleOf", "\(shown) is not a multiple of \(describe(.number(step)))"))
        }
        return violations
    }

    private func checkCombinations(_ value: JSONValue, _ rules: [String: JSONValue], at location: Location, into violations: inout [Violation]) {
        func results(_ keyword: String) -> [[Violation]]? {
            guard case .array(let schemas)? = rules[keyword] else { return nil }
            return schemas.enumerated().map { index, schema in
                var found: [Violation] = []
                check(value, schema, at: location.child(schema: "\(keyword)/\(index)"), into: &found)
                return found
            }
        }
        if let all = results("allOf") { violations += all.flatMap { $0 } }
        if let any = results("anyOf"), !any.contains(where: \.isEmpty) {
            violations.append(location.violation("anyOf", "matches none of the \(any.count) schemas (closest: \(Self.closest(any)))"))
        }
        if let one = results("oneOf") {
            let matching = one.filter(\.isEmpty).count
            if matching == 0 {
                violations.append(location.violation("oneOf", "matches none of the \(one.count) schemas (closest: \(Self.closest(one)))"))
            }
            if matching > 1 { violations.append(location.violation("oneOf", "matches \(matching) of the schemas, not exactly one")) }
        }
        if let not = rules["not"] {
            var found: [Violation] = []
            check(value, not, at: location.child(schema: "not"), into: &found)
            if found.isEmpty { violations.append(location.violation("not", "\(Self.describe(value)) matches the schema it must not match")) }
        }
    }

    // MARK: - Helpers

    /// The schema a `$ref` points at (`#/components/schemas/Name`, JSON pointer escapes decoded).
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        var node = document
        for token in reference.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch node {
            case .object(let members): guard let next = members[key] else { return nil }; node = next
            case .array(let elements): guard let index = Int(key), elements.indices.contains(index) else { return nil }; node = elements[index]
            default: return nil
            }
        }
        return node
    }

    /// A property schema with one `$ref` followed, to read its `readOnly` and `writeOnly`.
    private func resolvedOnce(_ schema: JSONValue) -> JSONValue {
        if case .string(let reference)? = schema["$ref"], schema["readOnly"] == nil, schema["writeOnly"] == nil, let target = resolve(reference) {
            return target
        }
        return schema
    }

    static func has(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("object", .object), ("array", .array), ("string", .string), ("number", .number): true
        case ("integer", .number(let number)): number.isFinite && number.rounded() == number
        default: false
        }
    }

    /// A JSON pointer token: `~` and `/` escaped.
    static func escape(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    static func describe(_ value: JSONValue) -> String {
        let text = value.jsonText()
        return text.count > 80 ? String(text.prefix(77)) + "…" : text
    }

    /// The first violation of the alternative that came nearest (fewest violations), to say why none matched.
    private static func closest(_ alternatives: [[Violation]]) -> String {
        alternatives.min(by: { $0.count < $1.count })?.first?.description ?? "none"
    }

    /// The formats worth checking cheaply; other formats are annotations (JSON Schema 2020-12's default).
    static let formats: [String: @Sendable (String) -> Bool] = [
        "date-time": { text in
            text.wholeMatch(of: /\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})/) != nil
        },
        "date": { text in text.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) != nil },
        "email": { text in text.wholeMatch(of: /[^@\s]+@[^@\s]+/) != nil },
        "uri": { text in text.prefixMatch(of: /[A-Za-z][A-Za-z0-9+.\-]*:\S*/) != nil && !text.contains(where: \.isWhitespace) },
        "uuid": { text in UUID(uuidString: text) != nil },
    ]
}
