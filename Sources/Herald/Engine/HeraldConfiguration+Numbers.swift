import Foundation

/// One numeric configuration key as the number tests see it: its path in `herald.yml`, its `HERALD_*`
/// variable and the rule its value must fit. A view of the numeric rows of ``ConfigurationKey/all``
/// (``HeraldConfiguration/numberSettings``), where each is declared once; every number goes through one
/// parser (``NumberRule/parse(_:)``) where it enters, so an out-of-range value is an error naming the key
/// and its source, never a trap later in `Int64(seconds * 1000)`.
public struct NumberSetting: Sendable, CustomStringConvertible {
    /// The dotted path in `herald.yml` (`dispatch.lease_seconds`).
    public let key: String
    /// The environment variable (`HERALD_DISPATCH_LEASE_SECONDS`), derived from the key.
    public let environment: String?
    public let rule: NumberRule

    public var description: String { environment.map { "\(key) (\($0))" } ?? key }
}

extension HeraldConfiguration {
    /// Every numeric key of `herald.yml` and the environment. The tests set each one to 1e300, -1, NaN and
    /// friends, through both, and expect a refusal naming it.
    public static let numberSettings: [NumberSetting] = ConfigurationKey.all.compactMap { key in
        key.numberRule.map { NumberSetting(key: key.key, environment: key.variable, rule: $0) }
    }

    /// Each number in force that breaks its rule, by key, naming the file when it came from one: a number
    /// out of bounds in `herald.yml`, or one set in code (tests, an embedding app). Numbers from flags and
    /// variables were refused where they entered.
    func numberProblems() -> [String] {
        numberProblemsByKey().map(\.problem)
    }

    func numberProblemsByKey() -> [(key: String, problem: String)] {
        ConfigurationKey.all.compactMap { key in
            guard let rule = key.numberRule, let text = key.current(self), let value = Double(text), let reason = rule.problem(value) else {
                return nil
            }
            let source = settings[key.key]?.source
            return (key.key, source?.rank == 2 ? "\(source!.name): \(key.key): \(reason)" : "\(key.key): \(reason)")
        }
    }
}
