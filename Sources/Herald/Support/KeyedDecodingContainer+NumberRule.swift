import Foundation

extension KeyedDecodingContainer {
    /// The number at `key` if present, checked against `rule`: the one way request bodies, settings
    /// documents read back from the database and `herald.yml` sections read their numbers. A refusal is a
    /// `DecodingError` at the field's path, which the API answers as a 422 naming the field
    /// (`smtp.timeout_seconds`) and the configuration loader as an error naming the key.
    ///
    /// With `deferringRange`, only what the field's type cannot hold is refused here (`1e400`; for an Int
    /// `1.5`, `1e300` or `9223372036854775808`); the range is left to the document's `problems()`, which
    /// checks it with the same rule so that one answer names every bad field at once.
    public func decodeIfPresent(_ type: Double.Type, forKey key: Key, within rule: NumberRule, deferringRange: Bool = false) throws -> Double? {
        guard let value = try number(forKey: key, rule) else { return nil }
        if !deferringRange, let reason = rule.problem(value) { throw refusal(key, reason) }
        return value
    }

    /// A whole number at `key` if present (see the Double form). Read as a Double first, so `1e300`, `1.5`
    /// and `9223372036854775808` all get the rule's own words rather than Foundation's.
    public func decodeIfPresent(_ type: Int.Type, forKey key: Key, within rule: NumberRule, deferringRange: Bool = false) throws -> Int? {
        guard let value = try number(forKey: key, rule) else { return nil }
        if deferringRange {
            guard value.rounded(.towardZero) == value, let whole = Int(exactly: value) else { throw refusal(key, "must be \(rule.description)") }
            return whole
        }
        guard let whole = rule.wholeValue(value) else { throw refusal(key, rule.problem(value) ?? "must be \(rule.description)") }
        return whole
    }

    /// The Double at `key`; a number the decoder cannot hold (`1e400`, past Double) is refused at the key
    /// in the rule's words, where Foundation would blame the whole document.
    private func number(forKey key: Key, _ rule: NumberRule) throws -> Double? {
        do {
            return try decodeIfPresent(Double.self, forKey: key)
        } catch DecodingError.dataCorrupted {
            throw refusal(key, "must be \(rule.description)")
        }
    }

    private func refusal(_ key: Key, _ reason: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: codingPath + [key], debugDescription: reason))
    }
}
