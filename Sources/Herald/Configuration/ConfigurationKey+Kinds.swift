import Foundation

/// The shapes a row of ``ConfigurationKey/all`` takes: a key that fills one property is one line, its
/// variable and its reading following from the key and the property's type.
extension ConfigurationKey {
    init(
        _ key: String, _ kind: Kind, _ summary: String, secret: Bool = false, alias: String? = nil, flag: String? = nil,
        overriddenBy: String? = nil,
        assign: @escaping @Sendable (inout HeraldConfiguration, Value, ConfigurationResolution) throws -> Void,
        current: @escaping @Sendable (HeraldConfiguration) -> String?
    ) {
        self.key = key
        self.kind = kind
        self.summary = summary
        self.isSecret = secret
        self.alias = alias
        self.flag = flag
        self.overriddenBy = overriddenBy
        self.assign = assign
        self.current = current
    }

    /// A string property.
    static func text(
        _ key: String, _ path: WritableKeyPath<HeraldConfiguration, String> & Sendable, _ summary: String, alias: String? = nil,
        flag: String? = nil
    ) -> ConfigurationKey {
        ConfigurationKey(
            key, .text, summary, alias: alias, flag: flag, assign: { configuration, value, _ in configuration[keyPath: path] = value.text },
            current: { $0[keyPath: path] })
    }

    /// A string property that may be unset.
    static func optionalText(
        _ key: String, _ path: WritableKeyPath<HeraldConfiguration, String?> & Sendable, _ summary: String, secret: Bool = false,
        alias: String? = nil, flag: String? = nil
    ) -> ConfigurationKey {
        ConfigurationKey(
            key, .text, summary, secret: secret, alias: alias, flag: flag,
            assign: { configuration, value, _ in configuration[keyPath: path] = value.text }, current: { $0[keyPath: path] })
    }

    /// A whole number (a count, a size, a port), bounded by `rule`.
    static func whole(
        _ key: String, _ rule: NumberRule, _ path: WritableKeyPath<HeraldConfiguration, Int> & Sendable, _ summary: String,
        alias: String? = nil, flag: String? = nil
    ) -> ConfigurationKey {
        precondition(rule.isWhole, "\(key) is read into an Int")
        return ConfigurationKey(
            key, .number(rule), summary, alias: alias, flag: flag,
            assign: { configuration, value, _ in if let whole = value.whole { configuration[keyPath: path] = whole } },
            current: { String($0[keyPath: path]) })
    }

    static func whole(
        _ key: String, _ range: ClosedRange<Int>, unit: String? = nil, _ path: WritableKeyPath<HeraldConfiguration, Int> & Sendable,
        _ summary: String, alias: String? = nil, flag: String? = nil
    ) -> ConfigurationKey {
        whole(key, .whole(range, unit: unit), path, summary, alias: alias, flag: flag)
    }

    /// A number with a fraction (seconds, a rate, hours), bounded by `rule`.
    static func number(
        _ key: String, _ rule: NumberRule, _ path: WritableKeyPath<HeraldConfiguration, Double> & Sendable, _ summary: String,
        alias: String? = nil
    ) -> ConfigurationKey {
        ConfigurationKey(
            key, .number(rule), summary, alias: alias, assign: { configuration, value, _ in configuration[keyPath: path] = value.number },
            current: { NumberRule.format($0[keyPath: path]) })
    }

    /// A duration in seconds within `range`.
    static func seconds(
        _ key: String, _ range: ClosedRange<Double>, _ path: WritableKeyPath<HeraldConfiguration, Double> & Sendable, _ summary: String,
        alias: String? = nil
    ) -> ConfigurationKey {
        number(key, .seconds(range), path, summary, alias: alias)
    }

    /// A true-or-false property.
    static func flag(
        _ key: String, _ path: WritableKeyPath<HeraldConfiguration, Bool> & Sendable, _ summary: String, alias: String? = nil
    ) -> ConfigurationKey {
        ConfigurationKey(
            key, .flag, summary, alias: alias, assign: { configuration, value, _ in configuration[keyPath: path] = value.flag },
            current: { String($0[keyPath: path]) })
    }

    /// A list of strings.
    static func list(
        _ key: String, _ path: WritableKeyPath<HeraldConfiguration, [String]> & Sendable, _ summary: String, alias: String? = nil
    ) -> ConfigurationKey {
        ConfigurationKey(
            key, .list, summary, alias: alias, assign: { configuration, value, _ in configuration[keyPath: path] = value.list },
            current: { $0[keyPath: path].joined(separator: ",") })
    }
}

extension ConfigurationKey.Value {
    /// The value as text (a list joined with commas), whatever its kind.
    public var text: String {
        switch self {
        case .text(let text): text
        case .flag(let flag): String(flag)
        case .number(let number): NumberRule.format(number)
        case .list(let list): list.joined(separator: ",")
        }
    }

    var flag: Bool {
        if case .flag(let flag) = self { return flag }
        return false
    }

    var number: Double {
        if case .number(let number) = self { return number }
        return 0
    }

    /// A whole number's value; the parser has checked it is whole and within its rule, so it fits an Int.
    var whole: Int? {
        if case .number(let number) = self { return Int(exactly: number) }
        return nil
    }

    var list: [String] {
        switch self {
        case .list(let list): list
        case .text(let text): [text]
        default: []
        }
    }
}
