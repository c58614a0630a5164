/// Why the ``DestinationPolicy`` will not let Herald connect to a host a tenant named, in words for the tenant.
public struct DestinationRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
