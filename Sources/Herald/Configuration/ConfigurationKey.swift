import Foundation

/// One setting of Herald, declared once: its dotted key in `herald.yml` (`dispatch.lease_seconds`), the
/// `HERALD_*` variable derived from that key by rule (``variable``), what its value must be (bounds for a
/// number), whether it is a secret, and one line of documentation. Every key is a row of
/// ``ConfigurationKey/all``; the file, the environment, `herald serve`'s flags, `herald config` and the
/// README's table all come from that one list, so a key cannot have a file field without a variable or a
/// variable without a file field.
///
/// ```swift
/// .whole("dispatch.critical_batch_size", 1...100_000, \.dispatch.criticalBatchSize, "Messages a critical-only lane claims at once.")
/// ```
public struct ConfigurationKey: Sendable, CustomStringConvertible {
    /// What a value must be; each kind has one parser (``parse(_:)``), whichever source the text came from.
    public enum Kind: Sendable {
        case text
        /// One of a few words (`api`, `worker`, `all`), compared without case.
        case choice([String])
        /// `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
        case flag
        case number(NumberRule)
        /// A YAML sequence in the file, comma-separated in the environment.
        case list
    }

    /// A value read by its kind.
    public enum Value: Sendable, Hashable {
        case text(String)
        case flag(Bool)
        case number(Double)
        case list([String])
    }

    /// The dotted path in `herald.yml`.
    public let key: String
    public let kind: Kind
    /// Shown as `********` by `herald config`, and marked secret for swift-configuration's access reporting.
    public let isSecret: Bool
    /// One line for `herald config` and the README's table.
    public let summary: String
    /// The variable this key had before variables were derived from keys (`HERALD_PORT` for `server.port`),
    /// still read after ``variable``, so existing deployments keep working.
    public let alias: String?
    /// The `herald serve` flag that sets it (`--port`), if there is one.
    public let flag: String?
    /// A key that, set at the same source or a higher one, replaces this one: `email.smtp.url` carries the
    /// host, port, security and credentials that its separate keys also name.
    public let overriddenBy: String?
    /// Stores a value (already parsed and in bounds); `resolution` gives the other keys' values for a key
    /// that is read together with others (an SMS provider's account and token).
    let assign: @Sendable (inout HeraldConfiguration, Value, ConfigurationResolution) throws -> Void
    /// The value in force, as text, for `herald config` (nil: not set).
    let current: @Sendable (HeraldConfiguration) -> String?

    /// The environment variable: `HERALD_` and the key in upper snake case (`dispatch.lease_seconds` →
    /// `HERALD_DISPATCH_LEASE_SECONDS`), the same rule swift-configuration's `EnvironmentVariablesProvider`
    /// applies to the key prefixed with `herald`.
    public var variable: String { Self.variable(for: key) }

    public static func variable(for key: String) -> String {
        "HERALD_" + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }

    /// The key's path, one component per section.
    public var components: [String] { key.split(separator: ".").map(String.init) }

    public var description: String { key }

    /// Whether the value is a number (whole or not), and its rule.
    public var numberRule: NumberRule? {
        if case .number(let rule) = kind { return rule }
        return nil
    }

    /// What a value of this key must be, in words (`a whole number from 1 to 64`, `true or false`).
    public var expected: String {
        switch kind {
        case .text: "a string"
        case .choice(let words): "one of \(Self.listing(words))"
        case .flag: "true or false"
        case .number(let rule): rule.description
        case .list: "a list of strings"
        }
    }

    /// Reads text from any source (a flag, a variable, a YAML scalar) by the key's kind; a number out of
    /// its bounds, or text that is no number, is refused here, where it enters.
    public func parse(_ text: String) -> Result<Value, ConfigurationProblem> {
        switch kind {
        case .text:
            return .success(.text(text))
        case .choice(let words):
            guard words.contains(text.lowercased()) else { return .failure(ConfigurationProblem("'\(text)' is not \(expected)")) }
            return .success(.text(text.lowercased()))
        case .flag:
            switch text.lowercased().trimmingCharacters(in: .whitespaces) {
            case "1", "true", "yes", "on": return .success(.flag(true))
            case "0", "false", "no", "off", "": return .success(.flag(false))
            default: return .failure(ConfigurationProblem("'\(text)' is not true or false"))
            }
        case .number(let rule):
            switch rule.parse(text) {
            case .success(let value): return .success(.number(value))
            case .failure(let problem): return .failure(ConfigurationProblem(problem.reason))
            }
        case .list:
            return .success(.list(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }))
        }
    }

    /// `a, b or c`.
    static func listing(_ words: [String]) -> String {
        words.count <= 1 ? words.joined() : words.dropLast().joined(separator: ", ") + " or " + words[words.count - 1]
    }
}

/// Why one value was refused, without where it came from (the reader adds the key and the source).
public struct ConfigurationProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
