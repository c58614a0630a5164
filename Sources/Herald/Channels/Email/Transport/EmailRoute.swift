/// The transports one tenant's email goes through, in order: the first takes everything; each next one takes
/// what the one before could not even try (down, its circuit open, its credentials refused).
public struct EmailRoute: Sendable {
    public var links: [any EmailTransport]

    public init(links: [any EmailTransport]) {
        self.links = links
    }

    /// Groups a batch by route.
    var name: String { links.map(\.name).joined(separator: " then ") }
}
