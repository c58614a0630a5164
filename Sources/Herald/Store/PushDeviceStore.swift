import Foundation

/// Subscribers' phones and browsers for the push channel.
public protocol PushDeviceStore: Sendable {
    /// Registers a device for a subscriber, or updates and reactivates the one with the same token or
    /// endpoint; nil when the subscriber does not exist.
    func registerPushDevice(tenantID: String, subscriberID: String, _ device: NewPushDevice, now: Date) async throws -> PushDevice?
    /// The subscriber's devices, active ones first.
    func pushDevices(tenantID: String, subscriberID: String) async throws -> [PushDevice]
    /// Removes a device; false when the subscriber has none with that id.
    func deletePushDevice(tenantID: String, subscriberID: String, deviceID: String) async throws -> Bool
    /// The devices of these subscribers to send to, keyed by subscriber id: every active one, and those
    /// deactivated since `retiredSince` (so a message can say which it skipped and why).
    func pushDevices(tenantID: String, subscriberIDs: [String], retiredSince: Date) async throws -> [String: [PushDevice]]
    /// Marks devices inactive with the provider's reason; they are never sent to again.
    func deactivatePushDevices(_ reasons: [String: String], now: Date) async throws
}
