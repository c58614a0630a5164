/// A section of `herald.yml` that holds keys only (`server:`, `dispatch:`, `email.smtp:`): decoded so that
/// a key not declared under it (``ConfigurationKey/all``) is refused by name, with a suggestion. The values
/// themselves are read through ``ConfigurationLayers``.
struct ConfigurationSection: Decodable {
    init(from decoder: any Decoder) throws {
        try Self.check(decoder, documents: NoDocuments.self)
    }

    /// A section with no documents: every name in it is a key.
    struct NoDocuments: CodingKey, CaseIterable {
        static var allCases: [NoDocuments] { [] }
        var stringValue: String { "" }
        var intValue: Int? { nil }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { nil }
    }

    /// Refuses a key of the object `decoder` reads that is neither one of `documents` (decoded by the
    /// caller) nor a key or section declared at its path, and checks the nested sections of keys, naming
    /// every unknown key of them all in one error (`dispach`, `server.hots`, `email.smtp.prot`).
    static func check<Documents: CodingKey & CaseIterable>(_ decoder: any Decoder, documents: Documents.Type) throws {
        let path = decoder.codingPath.map(\.stringValue)
        var errors: [FieldError] = []
        try collect(into: &errors) { try decoder.refuseUnknownKeys(documents, also: ConfigurationKey.names(at: path)) }
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        for name in ConfigurationKey.sections(at: path).sorted() where Documents(stringValue: name) == nil {
            try collect(into: &errors) { _ = try container.decodeIfPresent(ConfigurationSection.self, forKey: AnyCodingKey(stringValue: name)) }
        }
        if !errors.isEmpty { throw HeraldError.invalid(errors) }
    }

    /// Runs `body`, adding the fields it refuses (a ``HeraldError/invalid(_:)``, bare or as a decoder wraps
    /// it) to `errors`; any other error is thrown.
    static func collect(into errors: inout [FieldError], _ body: () throws -> Void) throws {
        do {
            try body()
        } catch HeraldError.invalid(let found) {
            errors += found
        } catch DecodingError.dataCorrupted(let context) {
            guard case .invalid(let found)? = context.underlyingError as? HeraldError else { throw DecodingError.dataCorrupted(context) }
            errors += found
        }
    }
}
