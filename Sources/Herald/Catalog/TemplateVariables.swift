/// Finds the variables a Mustache template refers to, so templates can be checked against declared
/// parameters when they are saved instead of rendering blanks when an event arrives.
///
/// Only names outside any section are checked: inside `{{#items}}…{{/items}}` a name may be a field of
/// the list item, which no declaration can describe.
public struct TemplateVariables: Sendable, Equatable {
    /// Root names used outside sections (`payment` for `{{payment.amount}}`), including section openers.
    public var topLevel: Set<String>
    /// Full dotted names used outside sections (`payment.amount`, `subscriber.name`), helpers removed:
    /// the values a render needs, which can be checked before rendering.
    public var paths: Set<String>
    /// Structural problems (unbalanced sections, unclosed tags, delimiter changes).
    public var problems: [String]
    /// Whether the text renders alike for every recipient of an event, given their locale and time zone: no tag,
    /// in a section or not, names `subscriber`; none shows the whole context (`{{.}}` outside sections); no partial,
    /// block or parent tag; no problem. A run of renders then renders it once (``TemplateContextMemo``).
    public var isSameForEverySubscriber: Bool

    public init(scanning template: String) {
        var topLevel: Set<String> = []
        var paths: Set<String> = []
        var problems: [String] = []
        var open: [String] = []
        var perSubscriber = false
        var rest = Substring(template)
        while let start = rest.range(of: "{{") {
            var afterOpen = rest[start.upperBound...]
            let triple = afterOpen.hasPrefix("{")
            if triple { afterOpen = afterOpen.dropFirst() }
            guard let end = afterOpen.range(of: triple ? "}}}" : "}}") else {
                problems.append("a tag opened with {{ is never closed")
                break
            }
            let tag = afterOpen[..<end.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = afterOpen[end.upperBound...]
            guard let sigil = tag.first else { continue }
            var name = tag
            var kind: Character = " "
            if "#^/&!>=%$<".contains(sigil) {
                kind = sigil
                name = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces)
            }
            switch kind {
            case "!", "%": continue
            case "=":
                problems.append("changing delimiters ({{=…=}}) is not supported")
                continue
            case ">", "$", "<":
                perSubscriber = true
                continue
            case "/":
                if let last = open.last, last == Self.root(of: name) || last == name {
                    open.removeLast()
                } else {
                    problems.append("{{/\(name)}} closes a section that is not open")
                }
                continue
            default: break
            }
            let root = Self.root(of: Self.stripTransforms(name))
            if root == "subscriber" || (root == "." && open.isEmpty) { perSubscriber = true }
            if open.isEmpty, root != "." {
                topLevel.insert(root)
                if kind == " " || kind == "&" { paths.insert(Self.stripTransforms(name)) }
            }
            if kind == "#" || kind == "^" { open.append(Self.root(of: name)) }
        }
        for name in open { problems.append("section {{#\(name)}} is never closed") }
        self.topLevel = topLevel
        self.paths = paths
        self.problems = problems
        self.isSameForEverySubscriber = !perSubscriber && problems.isEmpty
    }

    /// `uppercase(name)` → `name`: swift-mustache transforms wrap the variable.
    static func stripTransforms(_ name: String) -> String {
        var name = Substring(name)
        while let open = name.firstIndex(of: "("), name.hasSuffix(")") {
            name = name[name.index(after: open)..<name.index(before: name.endIndex)]
        }
        return String(name)
    }

    static func root(of name: String) -> String {
        let name = stripTransforms(name)
        if name == "." { return name }
        return String(name.split(separator: ".", maxSplits: 1).first ?? Substring(name))
    }
}
