/// A coding key for any name, to list the keys a document actually holds (``Swift/Decoder/refuseUnknownKeys(_:also:)``)
/// rather than only those a type declares.
public struct AnyCodingKey: CodingKey, Sendable {
    public var stringValue: String
    public var intValue: Int?

    public init(stringValue: String) { self.stringValue = stringValue }

    public init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}
