import Foundation
import NIOHTTP1

/// One HTTP request to a provider's API, as a plain value: what ``EmailProviderClient`` builds and the transport
/// sends, so each provider's wire format is tested without a socket.
public struct ProviderRequest: Sendable {
    public var method: HTTPMethod
    public var url: URL
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(method: HTTPMethod = .POST, url: URL, headers: [(String, String)], body: [UInt8]) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The value of the first header named `name` (any case).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}
