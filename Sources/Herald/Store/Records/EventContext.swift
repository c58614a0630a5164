import Foundation

/// The event a claimed message belongs to, loaded once per batch.
public struct EventContext: Sendable {
    public var id: String
    public var tenantID: String
    public var tenantName: String
    public var type: String
    public var payload: [String: JSONValue]
    public var createdAt: Date

    public init(id: String, tenantID: String, tenantName: String, type: String, payload: [String: JSONValue], createdAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.tenantName = tenantName
        self.type = type
        self.payload = payload
        self.createdAt = createdAt
    }
}
