import Foundation

/// An idempotency key with the hash of the request it came with.
public struct IdempotencyClaim: Sendable, Hashable {
    public var key: String
    public var requestHash: String

    public init(key: String, requestHash: String) {
        self.key = key
        self.requestHash = requestHash
    }
}
