/// The transports one tenant's email goes through: a primary, and a fallback that takes what the
/// primary cannot reach.
public struct EmailRoute: Sendable {
    public var primary: any EmailTransport
    public var fallback: (any EmailTransport)?

    public init(primary: any EmailTransport, fallback: (any EmailTransport)?) {
        self.primary = primary
        self.fallback = fallback
    }

    /// Groups a batch by route.
    var name: String { primary.name + (fallback.map { " then " + $0.name } ?? "") }
}
