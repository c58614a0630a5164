/// The README's table of keys, made from the declarations (`herald config keys` prints it), so the
/// documentation lists exactly the keys Herald reads; a test compares the two.
extension ConfigurationKey {
    /// One Markdown row: key, variable (and its older name), flag, default, and what it is.
    public var referenceRow: String {
        let environment = "`\(variable)`" + (alias.map { " (or `\($0)`)" } ?? "")
        let defaultValue = isSecret ? "" : current(HeraldConfiguration()).map { "`\($0)`" } ?? ""
        let shape: String
        switch kind {
        case .text: shape = ""
        case .list: shape = " A list."
        default: shape = " " + expected.prefix(1).uppercased() + expected.dropFirst() + "."
        }
        return "| `\(key)` | \(environment) | \(flag.map { "`\($0)`" } ?? "") | \(defaultValue) | \(summary)\(shape)\(isSecret ? " Secret." : "") |"
    }

    /// The whole table, with its header.
    public static var referenceTable: String {
        (["| key | environment | flag | default | what it is |", "|---|---|---|---|---|"] + all.map(\.referenceRow)).joined(separator: "\n")
    }
}

extension ConfigurationKey {
    /// `HERALD_*` variables in `environment` that name no key but look like a slip for one
    /// (`HERALD_PROT is not a setting; did you mean HERALD_PORT?`): a misspelt variable would otherwise be
    /// ignored without a word. Variables that resemble no key (a test harness's own) are left alone.
    public static func misspeltVariables(in environment: [String: String]) -> [String] {
        let known = Set(all.flatMap { [$0.variable] + ($0.alias.map { [$0] } ?? []) } + ["HERALD_CONFIG"])
        return environment.keys.filter { $0.hasPrefix("HERALD_") && !known.contains($0) }.sorted().compactMap { name in
            SpellingSuggestion.closest(to: name, among: known.sorted()).map { "\(name) is not a setting; did you mean \($0)?" }
        }
    }
}
