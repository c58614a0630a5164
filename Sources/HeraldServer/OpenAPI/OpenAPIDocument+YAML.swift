import Yams

extension OpenAPIDocument {
    /// The same document as YAML, for tools and readers that prefer it; converted from the JSON once, on first use.
    ///
    /// JSON is YAML, so Yams composes the JSON text into nodes (keeping the document's key order) and emits them again
    /// in block style. Strings are quoted only where a plain scalar would read back as something else (`"true"`,
    /// `"404"`, `"null"`), so the YAML loads to exactly the JSON's value.
    static func yaml() throws -> String {
        try convertedYAML.get()
    }

    private static let convertedYAML: Result<String, any Error> = Result {
        guard let node = try Yams.compose(yaml: json) else { throw YamlError.representer(problem: "openapi.json is empty") }
        return try Yams.serialize(node: blockStyle(node), indent: 2, width: -1, allowUnicode: true)
    }

    /// `node` with every mapping and sequence in block style, every multi-line string as a literal block and every other
    /// string as Yams would represent a Swift string: plain unless that changes its type.
    private static func blockStyle(_ node: Node) -> Node {
        switch node {
        case .mapping(let mapping):
            return .mapping(Node.Mapping(mapping.map { (blockStyle($0.key), blockStyle($0.value)) }, mapping.tag, .block))
        case .sequence(let sequence):
            return .sequence(Node.Sequence(sequence.map(blockStyle), sequence.tag, .block))
        case .scalar(let scalar) where scalar.style == .doubleQuoted && scalar.string.contains("\n"):
            // Paragraphs read best as a literal block; the emitter quotes instead where a block cannot hold the text.
            return .scalar(Node.Scalar(scalar.string, Tag(.str), .literal))
        case .scalar(let scalar) where scalar.style == .doubleQuoted:
            return .scalar(scalar.string.represented())
        case .scalar, .alias:
            return node
        }
    }
}
