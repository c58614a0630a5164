import Foundation
import Testing

@testable import Herald

@Suite("Workflow conditions")
struct ConditionTests {
    /// The event type every check runs against: one parameter of each kind, and two steps before this one.
    static let scope = ConditionScope(
        parameters: [
            "severity": ParameterSpec(type: .string),
            "amount": ParameterSpec(type: .number),
            "count": ParameterSpec(type: .integer, required: false),
            "kind": ParameterSpec(type: .string),
            "flag": ParameterSpec(type: .boolean),
            "details": ParameterSpec(type: .object),
            "tags": ParameterSpec(type: .array),
            "extra": ParameterSpec(type: .any),
            "when": ParameterSpec(type: .datetime),
            "link": ParameterSpec(type: .url, required: false),
        ],
        earlierSteps: 2)

    static let context = ConditionContext(
        payload: [
            "severity": "high", "amount": 150, "kind": "b", "flag": true, "count": nil,
            "details": ["customer": ["tier": "gold"]], "tags": ["x", "y"],
        ],
        subscriber: Subscriber(
            id: "sub-1", name: "Ada", email: "ada@example.com", locale: "en", data: ["plan": "pro", "seats": 3, "beta": true]),
        priority: .high, tenantID: "acme", read: false, seen: true, clicked: false, delivered: true,
        steps: [.init(status: "sent", read: true, delivered: true), .init(status: "failed")])

    // MARK: Parsing

    @Test(
        "syntax errors say what and where",
        arguments: [
            ("payload.amount == )", "unexpected ')'", 18),
            ("payload.amount == 1)", "unexpected ')'", 19),
            ("(payload.amount > 1", "unexpected end of condition (expected ')' to close the '(' at character 1)", 19),
            ("payload.amount = 1", "unexpected character '=' (use == to compare)", 15),
            ("read & seen", "unexpected character '&'", 5),
            ("read | seen", "unexpected character '|'", 5),
            ("read # seen", "unexpected character '#'", 5),
            ("read \u{0} seen", "unexpected character U+0000", 5),
            ("priority == 'high", "unterminated string", 12),
            ("priority == 'hi\ngh'", "unterminated string", 12),
            ("priority == 'h\\igh'", "unknown escape \\'i'", 14),
            ("payload.amount > 1e999", "the number 1e999 is too large", 17),
            ("payload.amount > -1e999", "the number -1e999 is too large", 17),
            ("payload.amount > " + String(repeating: "9", count: 41), "at most 40 characters", 17),
            ("payload.amount > 1 == true", "comparisons cannot be chained", 19),
            ("payload.kind in ['a'] in ['b']", "comparisons cannot be chained", 22),
            ("payload.kind in 'a'", "unexpected string 'a' (expected a list after in", 16),
            ("payload.kind in ['a', 'b'", "unexpected end of condition (expected ',' or ']')", 25),
            ("payload.kind in ['a', payload.severity]", "a list holds only literal values", 22),
            ("payload.kind in ['a',]", "unexpected ']'", 21),
            ("['a'] == payload.kind", "a list can only follow in", 0),
            ("read AND seen", "'AND' (keywords are lower-case: and)", 5),
            ("read and", "unexpected end of condition (expected a value)", 8),
            ("read seen", "unexpected name seen", 5),
            ("not", "unexpected end of condition", 3),
            ("payload. == 1", "unexpected character '.'", 7),
            ("()", "unexpected ')'", 1),
            ("payload.amount == 5abc", "unexpected name abc", 19),
            ("'é' == )", "unexpected ')'", 7),
        ])
    func syntaxErrors(_ source: String, _ message: String, _ offset: Int) {
        let error = #expect(throws: WorkflowConditionError.self) { try WorkflowCondition(parsing: source) }
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "no error")")
        #expect(error?.offset == offset)
    }

    @Test(
        "precedence: or < and < not < comparison; chains of and and or are flat",
        arguments: [
            (
                "not read and priority == 'high' or tenant == 'acme'",
                ConditionExpression.or([
                    .and([.not(.path(["read"])), .compare(.equal, .path(["priority"]), .literal("high"))]),
                    .compare(.equal, .path(["tenant"]), .literal("acme")),
                ])
            ),
            ("not steps.0.status == 'sent'", .not(.compare(.equal, .path(["steps", "0", "status"]), .literal("sent")))),
            ("read && seen && !clicked", .and([.path(["read"]), .path(["seen"]), .not(.path(["clicked"]))])),
            ("read || (seen || clicked)", .or([.path(["read"]), .or([.path(["seen"]), .path(["clicked"])])])),
            ("((read))", .path(["read"])),
            ("payload.kind in ['a', 1, null, true]", .membership(.path(["payload", "kind"]), ["a", 1, nil, true])),
            ("payload.amount>=-2.5e1", .compare(.greaterOrEqual, .path(["payload", "amount"]), .literal(-25))),
            ("payload.line-items.0.sku!=\"x\"", .compare(.notEqual, .path(["payload", "line-items", "0", "sku"]), .literal("x"))),
        ])
    func precedence(_ source: String, _ expected: ConditionExpression) throws {
        #expect(try WorkflowCondition(parsing: source).expression == expected)
    }

    @Test("an empty or blank condition is refused as a whole", arguments: ["", "   ", "\n\t"])
    func empty(_ source: String) {
        #expect(throws: WorkflowConditionError(message: "the condition is empty")) { try WorkflowCondition(parsing: source) }
    }

    @Test("the description counts characters from one")
    func errorDescription() {
        #expect(WorkflowConditionError(message: "unexpected ')'", offset: 13).description == "unexpected ')' at character 14")
        #expect(WorkflowConditionError(message: "the condition is empty").description == "the condition is empty")
        #expect(throws: WorkflowConditionError(message: "unexpected ')'", offset: 13)) { try WorkflowCondition(parsing: "read and seen)") }
    }

    @Test("limits: 1,000 characters, 32 levels, 100 list items")
    func limits() throws {
        let long = "read and " + String(repeating: " ", count: 987) + "seen"
        #expect(long.count == 1_000)
        _ = try WorkflowCondition(parsing: long)
        #expect(throws: WorkflowConditionError(message: "a condition may be at most 1,000 characters long")) {
            try WorkflowCondition(parsing: long + " ")
        }

        _ = try WorkflowCondition(parsing: String(repeating: "(", count: 32) + "read" + String(repeating: ")", count: 32))
        let deep = #expect(throws: WorkflowConditionError.self) {
            try WorkflowCondition(parsing: String(repeating: "(", count: 33) + "read" + String(repeating: ")", count: 33))
        }
        #expect(deep?.message.contains("nested too deeply") == true)
        #expect(deep?.offset == 32)
        _ = try WorkflowCondition(parsing: String(repeating: "not ", count: 32) + "read")
        #expect(throws: WorkflowConditionError.self) { try WorkflowCondition(parsing: String(repeating: "not ", count: 33) + "read") }
        #expect(throws: WorkflowConditionError.self) { try WorkflowCondition(parsing: String(repeating: "!", count: 33) + "read") }

        let items = (0..<100).map(String.init).joined(separator: ",")
        _ = try WorkflowCondition(parsing: "payload.amount in [\(items)]")
        let tooMany = #expect(throws: WorkflowConditionError.self) { try WorkflowCondition(parsing: "payload.amount in [\(items),100]") }
        #expect(tooMany?.message == "a list may hold at most 100 items")

        _ = try WorkflowCondition(parsing: "payload.amount < " + String(repeating: "9", count: 40))
    }

    // MARK: Checking

    @Test(
        "sound conditions have no problems",
        arguments: [
            "subscriber.email != null and payload.severity != 'low'",
            "priority == 'critical'",
            "not steps.0.read",
            "steps.1.status == 'failed' or payload.amount >= 100",
            "payload.kind in ['a', 'b']",
            "payload.kind in ['a', null]",
            "payload.details.customer.tier == 'gold'",
            "payload.extra",
            "payload.extra.deep.er > 3",
            "payload.count == null",
            "payload.count >= 1",
            "payload.when < '2026-01-01T00:00:00Z'",
            "payload.link != null",
            "payload.tags == null",
            "subscriber.data.plan == 'pro' && subscriber.data.seats > 2",
            "subscriber.id == 'x' or subscriber.name == 'y' or subscriber.phone == null",
            "subscriber.locale in ['en', 'fr'] and subscriber.timezone != null",
            "read || !seen && clicked or delivered",
            "tenant == 'acme'",
            "payload.amount in [1, 2.5, -3e2, null]",
            "(payload.flag)",
            "priority != 'low' and steps.0.status in ['sent', 'delivered']",
            "steps.00.seen == true",
            "true",
        ])
    func sound(_ source: String) throws {
        #expect(try WorkflowCondition(parsing: source).problems(in: Self.scope) == [])
    }

    @Test(
        "type errors and unknown names name the path or operator",
        arguments: [
            ("payload.amout > 1", "payload.amout is not a parameter of this event type (did you mean 'payload.amount'?)"),
            ("payload.nothing_like_it == 1", "it declares amount, count, details, extra, flag, kind, link, severity, tags and when"),
            ("payload == 1", "payload needs a parameter name"),
            ("payload.severity > 1", "'>' needs two numbers or two strings, but payload.severity is a string and 1 is a number"),
            ("payload.amount <= null", "'<=' needs two numbers or two strings, but payload.amount is a number and null is null"),
            ("payload.amount == 'x'", "'==' compares payload.amount, which is a number, with 'x', which is a string, so it can never match"),
            ("payload.flag != 1", "'!=' compares payload.flag"),
            ("payload.severity", "a condition must be true or false, but payload.severity is a string"),
            ("subscriber.email", "a condition must be true or false, but subscriber.email is a string"),
            ("priority == 'urgent'", "priority is one of critical, high, medium or low, never 'urgent'"),
            ("'hihg' == priority", "priority is one of critical, high, medium or low, never 'hihg' (did you mean 'high'?)"),
            ("priority in ['high', 'criticl']", "never 'criticl' (did you mean 'critical'?)"),
            ("priority < 'high'", "'<' cannot order priority"),
            ("steps.0.status > 'failed'", "'>' cannot order steps.0.status"),
            (
                "steps.0.status == 'faild'",
                "steps.0.status is one of pending, waiting, skipped, queued, sent, delivered, failed, suppressed or done, never 'faild'"
                    + " (did you mean 'failed'?)"
            ),
            ("steps.2.read", "steps.2 is not an earlier step; steps.0 to steps.1 come before this step"),
            ("steps.99999999999999999999999.read", "steps.99999999999999999999999 is not an earlier step"),
            ("steps.x.read", "steps needs a step number, like steps.0.status"),
            ("steps", "steps needs a step number"),
            ("steps.1", "steps.1 needs a field: status, read, seen, clicked, delivered or opened"),
            ("steps.0.bounced", "unknown step field in steps.0.bounced"),
            ("steps.0.red", "(did you mean 'read'?)"),
            ("steps.0.read.x", "steps.0.read has no fields"),
            ("subscriber.mail != null", "unknown subscriber field in subscriber.mail (did you mean 'subscriber.email'?)"),
            ("subscriber == null", "subscriber needs a field"),
            ("subscriber.data == null", "subscriber.data needs a key, like subscriber.data.plan"),
            ("subscriber.email.domain == 'x'", "subscriber.email is a string, so subscriber.email.domain names nothing"),
            ("prority == 'high'", "unknown name 'prority' (did you mean 'priority'?); expected payload.…, subscriber.…, priority, tenant, read"),
            ("amount > 1", "unknown name 'amount' (did you mean 'payload.amount'?)"),
            ("payloads.amount > 1", "(did you mean 'payload.amount'?)"),
            ("nan == 1", "unknown name 'nan'"),
            ("tenant.id == 'x'", "tenant has no fields, so tenant.id names nothing"),
            ("payload.severity.level == 'x'", "payload.severity is declared as string, so payload.severity.level names nothing"),
            ("payload.tags.0 == 'x'", "payload.tags is declared as array"),
            ("not payload.amount", "not needs true or false, but payload.amount is a number"),
            ("payload.flag and payload.severity", "and needs true or false, but payload.severity is a string"),
            ("read or 'yes'", "or needs true or false, but 'yes' is a string"),
            ("payload.kind in ['a', 1]", "'in' compares payload.kind, which is a string, with 1, which is a number"),
            ("read in ['yes']", "'in' compares read, which is true or false, with 'yes'"),
            ("NaN == NaN", "unknown name 'NaN'"),
            (
                "(payload.amount > 1 and not payload.flag) < 3",
                "'<' needs two numbers or two strings, but (payload.amount > 1 and not payload.flag) is true or false and 3 is a number"
            ),
            ("not (read or payload.amount)", "or needs true or false, but payload.amount is a number"),
            ("(read or seen) == 'x'", "'==' compares (read or seen), which is true or false, with 'x'"),
        ])
    func problems(_ source: String, _ expected: String) throws {
        let problems = try WorkflowCondition(parsing: source).problems(in: Self.scope)
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.contains(expected) == true, "\(problems)")
    }

    @Test("the examples in docs/workflow-conditions.md are sound")
    func documentedExamples() throws {
        let scope = ConditionScope(
            parameters: [
                "severity": ParameterSpec(type: .string), "amount": ParameterSpec(type: .number), "order": ParameterSpec(type: .object),
                "due": ParameterSpec(type: .datetime),
            ],
            earlierSteps: 3)
        let examples = [
            "subscriber.email != null and payload.severity != 'low'",
            "priority == 'critical' and not steps.2.delivered",
            "subscriber.email != null",
            "payload.severity in ['high', 'critical'] and not read",
            "steps.0.status == 'failed' or steps.0.status == 'suppressed'",
            "payload.amount >= 100 && subscriber.data.plan != 'free'",
            "not (steps.1.read or steps.1.clicked)",
            "priority == 'critical' || payload.order.total > 1e4",
            "subscriber.locale in ['fr', 'fr-CA'] and tenant == 'acme'",
            "payload.due < '2026-06-01'",
            "payload.amount > 1 and payload.amount < 10",
            "-3.5E-2 < 0",
        ]
        for example in examples {
            #expect(try WorkflowCondition(parsing: example).problems(in: scope) == [], "\(example)")
        }
        #expect(throws: WorkflowConditionError.self) { try WorkflowCondition(parsing: "1 < payload.amount < 10") }
    }

    @Test("every problem is reported, each once")
    func everyProblem() throws {
        let condition = try WorkflowCondition(parsing: "payload.amout > 1 and (prority == 'x' or steps.5.read) and payload.severity >= 2")
        let problems = condition.problems(in: Self.scope)
        #expect(problems.count == 4, "\(problems)")
        #expect(problems[0].contains("payload.amout"))
        #expect(problems[1].contains("prority"))
        #expect(problems[2].contains("steps.5"))
        #expect(problems[3].contains("'>='"))
    }

    @Test("the first step has no earlier steps; an event type without parameters has no payload names")
    func emptyScope() throws {
        let problems = try WorkflowCondition(parsing: "steps.0.read or payload.amount > 1").problems(in: ConditionScope())
        #expect(
            problems == [
                "steps.0 is not an earlier step; this is the first step, so there are none",
                "payload.amount is not a parameter of this event type; it declares none",
            ])
        #expect(
            try WorkflowCondition(parsing: "steps.1.read").problems(in: ConditionScope(earlierSteps: 1)).first?
                .contains("only steps.0 comes before this step") == true)
    }

    // MARK: Evaluating

    @Test(
        "evaluation over payload, subscriber, priority, tenant, engagement and earlier steps",
        arguments: [
            ("subscriber.email != null and payload.severity != 'low'", true),
            ("priority == 'critical'", false),
            ("priority == 'high'", true),
            ("priority in ['critical', 'high']", true),
            ("not steps.0.read", false),
            ("steps.1.status == 'failed' or payload.amount >= 100", true),
            ("steps.1.status == 'sent'", false),
            ("steps.0.read and steps.0.delivered and not steps.0.seen", true),
            ("steps.1.clicked", false),
            ("payload.kind in ['a', 'b']", true),
            ("payload.kind in ['a', 'c']", false),
            ("payload.amount == 150.0", true),
            ("payload.amount == 1.5e2", true),
            ("payload.amount > 150", false),
            ("payload.amount >= 150", true),
            ("payload.amount < 1000", true),
            ("payload.amount <= 149.99", false),
            ("payload.amount > -1e3", true),
            ("payload.amount in [150]", true),
            ("payload.amount in []", false),
            ("payload.severity < 'low'", true),
            ("payload.severity > 1", false),
            ("payload.severity <= 1", false),
            ("payload.flag", true),
            ("payload.flag == true", true),
            ("!payload.flag", false),
            ("payload.severity", false),
            ("not payload.severity", true),
            ("payload.details.customer.tier == 'gold'", true),
            ("payload.details.customer == null", false),
            ("payload.details.customer.tier.more == null", true),
            ("payload.tags.1 == 'y'", true),
            ("payload.tags.5 == null", true),
            ("payload.tags.-1 == null", true),
            ("subscriber.id == 'sub-1'", true),
            ("subscriber.name == 'Ada'", true),
            ("subscriber.email == 'ada@example.com'", true),
            ("subscriber.phone == null", true),
            ("subscriber.locale == 'en'", true),
            ("subscriber.timezone != null", false),
            ("subscriber.data.plan == 'pro'", true),
            ("subscriber.data.seats >= 3", true),
            ("subscriber.data.beta", true),
            ("subscriber.data.nothing == null", true),
            ("subscriber.data.plan.deeper == null", true),
            ("tenant == 'acme'", true),
            ("tenant != 'acme'", false),
            ("read", false),
            ("seen", true),
            ("clicked", false),
            ("delivered", true),
            ("!read && seen", true),
            ("read or clicked", false),
            ("read || clicked || delivered", true),
            ("not (read or clicked)", true),
            ("not read == true", true),
            ("true", true),
            ("false", false),
            ("null", false),
            ("not null", true),
            ("null == null", true),
            ("'a' == \"a\"", true),
            ("'it\\'s' == \"it's\"", true),
            ("'back\\\\slash' == \"back\\\\slash\"", true),
            ("'say \"hi\"' == \"say \\\"hi\\\"\"", true),
            ("-5 < 0", true),
            ("1 == 1.0", true),
            ("0 == -0", true),
            ("'10' == 10", false),
        ])
    func evaluation(_ source: String, _ expected: Bool) throws {
        #expect(try WorkflowCondition(parsing: source).evaluate(Self.context) == expected)
    }

    @Test(
        "missing values are null: equal to null, never ordered, false as booleans",
        arguments: [
            ("payload.amount == null", true),
            ("payload.amount != null", false),
            ("payload.amount > 0", false),
            ("payload.amount <= 0", false),
            ("not (payload.amount > 0)", true),
            ("payload.flag", false),
            ("not payload.flag", true),
            ("payload.kind in ['a', null]", true),
            ("payload.kind in ['a']", false),
            ("subscriber.email == null and subscriber.name == null", true),
            ("subscriber.data.plan == null", true),
            ("steps.0.status == null", true),
            ("steps.0.read", false),
            ("not steps.0.read", true),
        ])
    func missing(_ source: String, _ expected: Bool) throws {
        let bare = ConditionContext(subscriber: Subscriber(id: "sub-2"), priority: .low, tenantID: "t")
        #expect(try WorkflowCondition(parsing: source).evaluate(bare) == expected)
    }

    // MARK: Hostile input

    @Test(
        "hostile input is refused or evaluated, never a crash",
        arguments: [
            String(repeating: "(", count: 10_000),
            String(repeating: "(", count: 400) + "true" + String(repeating: ")", count: 400),
            String(repeating: "not ", count: 240) + "true",
            String(repeating: "!", count: 999) + "read",
            String(repeating: "[", count: 500),
            "payload.amount in " + String(repeating: "[", count: 500),
            String(repeating: "a", count: 1_000_000),
            "a" + String(repeating: "\u{301}", count: 100_000),
            "'" + String(repeating: "\u{301}", count: 3_000) + "' == payload.kind",
            "true and " + String(repeating: "\u{1F469}\u{200D}\u{1F4BB}", count: 300),
            String(repeating: "9", count: 1_000),
            "payload.amount < 1" + String(repeating: "0", count: 39),
            "payload.amount < 1e308 and payload.amount > -1e308 and payload.amount != 1e-999",
            "payload.amount < 1e309",
            "NaN == NaN", "nan", "-nan", "Infinity > 1", "inf < -inf", "payload.amount == NaN", "0x1F == 31", "1_000 == 1000",
            "payload.amount == .5", "payload.amount == 5.", "payload.amount == 1e", "payload.amount == 1e+", "--1 < 0",
            "'\\", "\"", "'\u{0}' == payload.kind", "\u{FEFF}read", "read\u{00A0}and seen",
            String(repeating: "read and ", count: 110) + "seen",
            String(repeating: "read or ", count: 120) + "seen",
            "steps.18446744073709551616.read", "steps.-1.read", "payload.tags.99999999999999999999999 == 1",
            "payload." + String(repeating: "x.", count: 400) + "y == 1",
        ])
    func hostile(_ source: String) {
        do {
            let condition = try WorkflowCondition(parsing: source)
            _ = condition.problems(in: Self.scope)
            _ = condition.evaluate(Self.context)
        } catch {
            #expect(!error.message.isEmpty)
            #expect(error.description.count < 400, "\(error.description.count)")
        }
    }

    @Test("thousands of random token soups are refused or evaluated, never a crash")
    func randomSoup() {
        let pieces = [
            "(", ")", "[", "]", ",", "==", "!=", "<", "<=", ">", ">=", "!", "&&", "||", "and", "or", "not", "in", "null", "true",
            "false", "1", "-2.5e3", "'x'", "\"y\"", "payload.amount", "payload.kind", "payload.details.a", "subscriber.email",
            "subscriber.data.plan", "priority", "'high'", "tenant", "read", "steps.0.status", "steps.9.read", "nope", "=", "&", ".", "'",
        ]
        var generator = SplitMix64(seed: 42)
        var parsed = 0
        for _ in 0..<3_000 {
            let length = Int(generator.next() % 24) + 1
            let source = (0..<length).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined(separator: " ")
            if let condition = try? WorkflowCondition(parsing: source) {
                parsed += 1
                _ = condition.problems(in: Self.scope)
                _ = condition.evaluate(Self.context)
            }
        }
        #expect(parsed > 0)
    }

    // MARK: Coding and identity

    @Test("a condition is coded as its source string, and a bad one is refused with the parse error")
    func coding() throws {
        struct Step: Codable { var `if`: WorkflowCondition }
        let step = try JSONDecoder().decode(Step.self, from: Data(#"{"if": "priority == 'high' and not read"}"#.utf8))
        #expect(step.if.source == "priority == 'high' and not read")
        #expect(step.if.evaluate(Self.context))
        #expect(String(decoding: try JSONEncoder().encode(step.if), as: UTF8.self) == #""priority == 'high' and not read""#)

        do {
            _ = try JSONDecoder().decode(Step.self, from: Data(#"{"if": "read and )"}"#.utf8))
            Issue.record("a bad condition decoded")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.debugDescription == "unexpected ')' (expected a value) at character 10")
            #expect(context.codingPath.map(\.stringValue) == ["if"])
        }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Step.self, from: Data(#"{"if": 3}"#.utf8)) }
    }

    @Test("conditions are equal when their sources are")
    func identity() throws {
        let a = try WorkflowCondition(parsing: "read")
        #expect(a == (try WorkflowCondition(parsing: "read")))
        #expect(a != (try WorkflowCondition(parsing: " read")))
        #expect(Set([a, try WorkflowCondition(parsing: "read")]).count == 1)
        #expect(a.description == "read")
    }

    /// A small seeded generator, so the random soup is the same on every run.
    private struct SplitMix64: RandomNumberGenerator {
        var state: UInt64

        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
