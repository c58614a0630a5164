/// The known name a misspelt one was most likely meant to be (`hots` → `host`), by edit distance, for the
/// "did you mean" of an unknown key in `herald.yml`, an unknown field of a request, or an unknown name in a
/// workflow condition.
public enum SpellingSuggestion {
    /// Names longer than this get no suggestion: nobody misspells a 65-letter name, and the distance costs the
    /// product of the two lengths, which a hostile request would choose.
    static let longestName = 64

    /// The closest of `candidates` to `name`, if it is close enough to be a plausible slip: at most `limit` edits
    /// (by default a third of the name's letters, at least one), ties going to the first in order.
    public static func closest(to name: String, among candidates: some Sequence<String>, limit: Int? = nil) -> String? {
        guard name.count <= longestName else { return nil }
        let limit = limit ?? max(1, name.count / 3)
        var best: (name: String, distance: Int)?
        for candidate in candidates where candidate.count <= longestName && candidate != name {
            let distance = editDistance(name.lowercased(), candidate.lowercased())
            if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.name
    }

    /// Levenshtein distance with adjacent transpositions counted as one edit (`hsot` → `host` is 1).
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { current[j] = min(current[j], previous2[j - 2] + 1) }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
