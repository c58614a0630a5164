extension CodingUserInfoKey {
    /// Set (to `true`) in the `userInfo` of the decoders that read what a user sends: request bodies
    /// (``JSONCoding/requestDecoder``) and `herald.yml`. Documents Herald stored itself are read without it,
    /// so a field a later version drops never stops stored settings or event plans from loading.
    public static let refusesUnknownKeys = CodingUserInfoKey(rawValue: "herald.refusesUnknownKeys")!
}

extension Decoder {
    /// Whether this decoder reads what a user sent (see ``Swift/CodingUserInfoKey/refusesUnknownKeys``).
    public var refusesUnknownKeys: Bool { userInfo[.refusesUnknownKeys] as? Bool == true }

    /// Refuses every key of the object being decoded that is not one of `Keys` (nor in `also`), naming each
    /// by its full path (`smtp.hots`, `events[2].attachments`), when the decoder reads user input. The one
    /// place Herald's rule "an unknown field is refused by name, never silently ignored" lives: a misspelt
    /// or not-yet-supported field (`dkim`, `workflow`, `attachments`) would otherwise be accepted and dropped.
    ///
    /// Each fixed-shape type calls it once from `init(from:)`; free-form objects (a payload, a subscriber's
    /// `data`, template maps keyed by channel and locale) do not, but the fixed-shape objects inside them do.
    ///
    /// ```swift
    /// let container = try decoder.container(keyedBy: CodingKeys.self)
    /// try decoder.refuseUnknownKeys(CodingKeys.self)
    /// ```
    public func refuseUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type, also extra: Set<String> = []) throws {
        guard refusesUnknownKeys else { return }
        try refuseKeys(known: { Keys(stringValue: $0) != nil || extra.contains($0) }) {
            Set(Keys.allCases.map(\.stringValue)).union(extra).sorted()
        }
    }

    /// Like ``refuseUnknownKeys(_:also:)`` for a shape whose fields are listed by name (one form of a
    /// value that takes several, or a configuration section read from a table).
    public func refuseUnknownKeys(allowing names: Set<String>) throws {
        guard refusesUnknownKeys else { return }
        try refuseKeys(known: names.contains) { names.sorted() }
    }

    /// Checks the keys without building anything when all are known (the trigger path decodes thousands
    /// of objects a second); the list of known fields is made only for the refusal.
    private func refuseKeys(known: (String) -> Bool, names: () -> [String]) throws {
        let container = try self.container(keyedBy: AnyCodingKey.self)
        let unknown = container.allKeys.filter { !known($0.stringValue) }
        guard !unknown.isEmpty else { return }
        let known = names()
        let list = "the known fields are \(known.joined(separator: ", "))"
        throw HeraldError.invalid(
            unknown.map(\.stringValue).sorted().map { name in
                // A misspelt field (`hots`) is named with the closest known one.
                let suggestion = SpellingSuggestion.closest(to: name, among: known).map { " (did you mean '\($0)'?)" } ?? ""
                return FieldError(DecodingError.fieldPath(container.codingPath + [AnyCodingKey(stringValue: name)]), "is not a known field\(suggestion); \(list)")
            })
    }
}
