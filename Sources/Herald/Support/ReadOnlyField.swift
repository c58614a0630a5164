/// Fields an API answer shows beside a stored document, which are not part of it: a settings answer's
/// `effective` object (what sending uses once the server's defaults fill the gaps), a webhook endpoint's
/// `circuit` and `deliveries`. A settings page sends back what it read, so the document's `PUT` accepts
/// these and ignores them; any other unknown field is refused (``Swift/Decoder/refuseUnknownKeys(_:also:)``).
public enum ReadOnlyField: String, CodingKey, CaseIterable, Sendable {
    case effective
    case circuit
    case deliveries

    /// The names, for `refuseUnknownKeys(_:also:)`.
    public static func names(_ fields: ReadOnlyField...) -> Set<String> { Set(fields.map(\.rawValue)) }
}
