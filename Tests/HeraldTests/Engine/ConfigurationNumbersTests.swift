import Foundation
import Testing
import Yams

@testable import Herald

/// Every numeric key of `herald.yml` and of the environment refuses what does not fit with an error naming
/// the key, through the one parser (``NumberRule``), and no value reaches a conversion that traps (issue 15).
/// The keys come from ``HeraldConfiguration/numberSettings`` and from the numeric fields of the file's own
/// shape (found by reflection), so a key added either way is walked without being listed here.
@Suite("Numbers are bounded where they enter the configuration")
struct ConfigurationNumbersTests {
    /// Refused by every numeric key: too large, negative, not finite, not a number, past Int64 and Double.
    static let refusedEverywhere = [
        "1e300", "-1e300", "1e16", "9.3e18", "1e19", "9223372036854775807", "9223372036854775808", "-1", "-0.5", "nan", "NaN", "inf",
        "-inf", "Infinity", "1e400", "123456789012345678901234567890123456789012345678901234567890", "0x10", "ten", "",
    ]
    /// Refused by whole-number keys besides.
    static let fractions = ["0.5", "1.5", "1e3"]
    /// YAML's own spellings of NaN and infinity.
    static let yamlOnly = [".nan", ".inf", "-.inf", ".NaN"]

    static func refused(by rule: NumberRule) -> [String] {
        refusedEverywhere + (rule.isWhole ? fractions : []) + (rule.range.lowerBound > 0 ? ["0"] : [])
    }

    /// The variables that make an SMTP server exist, so `HERALD_SMTP_*` numbers have one to land on.
    static let smtpEnvironment = ["HERALD_SMTP_HOST": "smtp.example.com"]

    @Test("the table names each key and variable once, and holds them all")
    func table() {
        let settings = HeraldConfiguration.numberSettings
        #expect(Set(settings.map(\.key)).count == settings.count)
        let variables = settings.compactMap(\.environment)
        #expect(Set(variables).count == variables.count)
        #expect(settings.count >= 30)
        for setting in settings {
            #expect(setting.rule.range.upperBound < 1e12, "\(setting) has no meaningful upper bound")
            if setting.rule.unit == "seconds" { #expect(setting.rule.range.upperBound <= Seconds.ceiling) }
        }
    }

    @Test("every numeric HERALD_* variable refuses what does not fit, naming the variable", arguments: HeraldConfiguration.numberSettings)
    func environment(_ setting: NumberSetting) throws {
        guard let name = setting.environment else { return }
        for text in Self.refused(by: setting.rule) {
            var configuration = HeraldConfiguration()
            let error = #expect(throws: ConfigurationError.self, "\(name)=\(text) was accepted") {
                try configuration.apply(environment: Self.smtpEnvironment.merging([name: text]) { $1 })
            }
            #expect(error?.description.contains(name) == true, "\(error?.description ?? "")")
        }
        // Both ends of the range are taken, and the configuration then validates that key.
        for bound in [setting.rule.range.lowerBound, setting.rule.range.upperBound] {
            var configuration = HeraldConfiguration()
            try configuration.apply(environment: Self.smtpEnvironment.merging([name: NumberRule.format(bound)]) { $1 })
            #expect(!configuration.numberProblems().contains { $0.hasPrefix(setting.key + ":") })
        }
    }

    @Test("every numeric key of herald.yml refuses what does not fit, naming the key")
    func file() throws {
        var rules = Dictionary(uniqueKeysWithValues: HeraldConfiguration.numberSettings.map { ($0.key, $0.rule) })
        // A number decoded through Codable with a rule of its own: what every rule refuses (and fractions, for
        // an Int), less YAML's own spellings of whole numbers (`0x10`, `1e3`), which Yams reads as 16 and 1000.
        var codable: Set<String> = []
        for (key, isWhole) in Self.fileNumbers() where rules[key] == nil {
            rules[key] = isWhole ? .whole(0...1) : .fraction(0...1)
            codable.insert(key)
        }
        #expect(rules.count >= 33)
        let directory = TestEngine.temporaryDirectory()
        for (key, rule) in rules.sorted(by: { $0.key < $1.key }) {
            for text in Self.refused(by: rule) + Self.yamlOnly where !text.isEmpty && !(codable.contains(key) && ["0x10", "1e3"].contains(text)) {
                let url = directory.appendingPathComponent("herald.yml")
                let yaml = try #require(Self.skeleton.placing(text, at: key), "the skeleton has no place for \(key)")
                try yaml.write(to: url, atomically: true, encoding: .utf8)
                // Text that is no number stops the load; a number out of range is reported by validate(), with
                // every other problem of the file.
                let error = #expect(throws: ConfigurationError.self, "\(key): \(text) was accepted") {
                    try HeraldConfiguration.load(file: url.path, environment: [:]).validate()
                }
                #expect(error?.description.contains(key) == true, "\(key): \(text): \(error?.description ?? "")")
            }
        }
    }

    @Test("numbers set in code are checked by validate(), naming the key")
    func validate() throws {
        let cases: [(String, (inout HeraldConfiguration) -> Void)] = [
            ("inbox_heartbeat_seconds", { $0.inboxHeartbeatSeconds = .nan }),
            ("dispatch.lease_seconds", { $0.dispatch.leaseSeconds = .infinity }),
            ("dispatch.cleanup_interval_seconds", { $0.dispatch.cleanupIntervalSeconds = 1e300 }),
            ("outbound.timeout_seconds", { $0.outbound.timeoutSeconds = 1e16 }),
            ("server.max_body_bytes", { $0.maxBodyBytes = .max }),
            ("email.smtp.timeout_seconds", { $0.email.smtp = SMTPServerConfiguration(host: "smtp.example.com", timeoutSeconds: 1e300) }),
        ]
        for (key, change) in cases {
            var configuration = HeraldConfiguration()
            configuration.database = TestEngine.temporaryDirectory().appendingPathComponent("herald.sqlite").path
            change(&configuration)
            let error = #expect(throws: ConfigurationError.self) { try configuration.validate() }
            #expect(error?.description.contains(key) == true, "\(error?.description ?? "")")
        }
    }

    /// JSON, which YAML reads too: every section the file has, with what its numbers need around them.
    static let skeleton: JSONValue = [
        "server": [:], "dispatch": [:], "api_limits": [:], "outbound": [:], "sms": [:], "push": [:],
        "email": [
            "smtp": ["host": "smtp.example.com"], "smtp_fallback": ["host": "smtp2.example.com"], "inbound": [:],
            "bounce_domain": "bounces.example.com",
        ],
        "rate_limits": [
            "per_subscriber": ["limit": 5, "period": "1h"], "per_subscriber_event_type": ["limit": 5, "period": "1h"],
            "per_tenant": ["limit": 5, "period": "1h"],
        ],
    ]

    /// Numeric fields of the file's decoded shape (`HeraldConfiguration.File`), as YAML keys: numbers
    /// decoded through Codable (with a rule) rather than through the table. Found by reflection over the
    /// skeleton, so a field added to a section is found without a list.
    static func fileNumbers() -> [(key: String, isWhole: Bool)] {
        guard let file = try? YAMLDecoder().decode(HeraldConfiguration.File.self, from: skeleton.jsonText()) else {
            Issue.record("the skeleton does not decode as herald.yml")
            return []
        }
        var found: [(key: String, isWhole: Bool)] = []
        func walk(_ value: Any, path: String) {
            let typeName = String(describing: type(of: value))
            if typeName.hasPrefix("Array") || typeName.hasPrefix("Dictionary") { return }
            if ["Int", "Double", "Optional<Int>", "Optional<Double>"].contains(typeName) {
                found.append((path, typeName.contains("Int")))
                return
            }
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional {
                if let wrapped = mirror.children.first { walk(wrapped.value, path: path) }
                return
            }
            guard mirror.displayStyle == .struct else { return }
            for child in mirror.children {
                guard let label = child.label else { continue }
                walk(child.value, path: path.isEmpty ? snakeCase(label) : "\(path).\(snakeCase(label))")
            }
        }
        walk(file, path: "")
        return found
    }

    static func snakeCase(_ name: String) -> String {
        name.reduce(into: "") { text, character in
            if character.isUppercase { text += "_" + character.lowercased() } else { text.append(character) }
        }
    }
}

@Suite("NumberRule and Seconds")
struct NumberRuleTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var rule: NumberRule
        var text: String
        var accepted: Bool
        var testDescription: String { "\(rule): '\(text)' \(accepted ? "accepted" : "refused")" }
    }

    static let count = NumberRule.whole(1...64)
    static let timeout = NumberRule.seconds(0.1...600)

    static let cases: [Case] = [
        Case(rule: count, text: "1", accepted: true), Case(rule: count, text: "64", accepted: true),
        Case(rule: count, text: " 8 ", accepted: true), Case(rule: count, text: "65", accepted: false),
        Case(rule: count, text: "0", accepted: false), Case(rule: count, text: "1.5", accepted: false),
        Case(rule: count, text: "1e1", accepted: false), Case(rule: count, text: "9223372036854775808", accepted: false),
        Case(rule: timeout, text: "0.1", accepted: true), Case(rule: timeout, text: "600", accepted: true),
        Case(rule: timeout, text: "1e2", accepted: true), Case(rule: timeout, text: "600.0001", accepted: false),
        Case(rule: timeout, text: "nan", accepted: false), Case(rule: timeout, text: "inf", accepted: false),
        Case(rule: timeout, text: "0x10", accepted: false), Case(rule: timeout, text: "1e300", accepted: false),
    ]

    @Test(arguments: cases)
    func parse(_ testCase: Case) {
        switch testCase.rule.parse(testCase.text) {
        case .success: #expect(testCase.accepted)
        case .failure(let problem):
            #expect(!testCase.accepted)
            #expect(problem.reason.contains(testCase.rule.description))
        }
    }

    struct Timeout: Decodable {
        var seconds: Double?
        var count: Int?
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            seconds = try container.decodeIfPresent(Double.self, forKey: .seconds, within: NumberRuleTests.timeout)
            count = try container.decodeIfPresent(Int.self, forKey: .count, within: NumberRuleTests.count)
        }
        enum CodingKeys: String, CodingKey { case seconds, count }
    }

    @Test("JSON and YAML decoding refuse at the field's path", arguments: [
        #"{"seconds": 1e300}"#, #"{"seconds": -1}"#, #"{"seconds": -1e300}"#, #"{"count": 1.5}"#, #"{"count": 9223372036854775807}"#,
        #"{"count": 123456789012345678901234567890}"#,
    ])
    func decoding(_ text: String) throws {
        let field = text.contains("seconds") ? "seconds" : "count"
        let json = #expect(throws: DecodingError.self) { try JSONCoding.decoder.decode(Timeout.self, from: Data(text.utf8)) }
        #expect(json?.fieldPath == field, "\(String(describing: json))")
        let yaml = #expect(throws: DecodingError.self) { try YAMLDecoder().decode(Timeout.self, from: text) }
        #expect(yaml?.fieldPath == field, "\(String(describing: yaml))")
        #expect(try JSONCoding.decoder.decode(Timeout.self, from: Data(#"{"seconds": 30, "count": 4}"#.utf8)).count == 4)
    }

    @Test("a JSON number past Double is not JSON to the decoder: refused as a whole, never read as infinity")
    func pastDouble() {
        let error = #expect(throws: DecodingError.self) { try JSONCoding.decoder.decode(Timeout.self, from: Data(#"{"seconds": 1e400}"#.utf8)) }
        #expect(error?.fieldPath == "")
    }

    @Test("Seconds converts any Double without trapping", arguments: [Double.nan, .infinity, -.infinity, 1e300, -1e300, 9.3e18, -1, 0, 0.5, 30])
    func seconds(_ value: Double) {
        let seconds = Seconds(clamping: value)
        #expect((0...Seconds.ceiling).contains(seconds.value))
        #expect(seconds.milliseconds >= 0)
        #expect(seconds.duration >= .zero)
        #expect(seconds.timeAmount.nanoseconds >= 0)
        #expect(seconds.wholeSecondsRoundedUp >= 0)
        if (0...Seconds.ceiling).contains(value) { #expect(seconds.value == value) }
    }
}
