import Foundation
import Herald
import Testing

/// What the engine relies on from any ``Store``, pinned once and run on SQLite and PostgreSQL alike: idempotent
/// intake, claims and leases, batch completion, the inbox's order and counts, cancellation, fan-out chunks, flow
/// state, and retention. Every call goes straight to the store with a fixed `now`, so no case waits on a clock;
/// the engine only sets up tenants and subscribers.
///
/// The cases live in the `StoreContractTests+….swift` files beside this one, one concern each.
@Suite("Store contract", .dropsPostgresSchemas)
struct StoreContractTests {
    /// The fixed time every case counts from (whole seconds, so the stores' millisecond columns give it back exactly).
    static let base = Date(timeIntervalSince1970: 1_800_000_000)

    static func at(_ seconds: Double) -> Date { base.addingTimeInterval(seconds) }

    /// An in-app event type: in-app needs no address, so every recipient gets exactly one queued message.
    static func inAppType(_ key: String, priority: Priority = .medium, _ configure: (inout EventType) -> Void = { _ in }) -> EventType {
        var type = EventType(key: key, priority: priority, channels: [.inApp])
        configure(&type)
        return type
    }
}

/// A fresh store (SQLite file or PostgreSQL schema of the case's own) with one tenant and its subscribers.
struct StoreContractFixture {
    let engine: HeraldEngine
    let tenantID: String

    var store: any Store { engine.store }

    static func make(on backend: StoreBackend, subscribers: [String] = ["s0", "s1", "s2", "s3", "s4"]) async throws -> StoreContractFixture {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, _) = try await engine.createTenant(name: "Contract")
        for id in subscribers {
            _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id))
        }
        return StoreContractFixture(engine: engine, tenantID: tenant.id)
    }

    /// Another tenant on the same store, with its own subscribers.
    func otherTenant(subscribers: [String] = ["s0"]) async throws -> String {
        let (tenant, _) = try await engine.createTenant(name: "Other")
        for id in subscribers {
            _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id))
        }
        return tenant.id
    }

    /// A trigger as the engine hands it to the store: a fresh event id, the type resolved, an expiry.
    func prepared(
        _ type: EventType, to recipients: [Recipient], payload: [String: JSONValue] = [:], sendAt: Date? = nil, cancellationKey: String? = nil,
        expiresAt: Date = StoreContractTests.at(30 * 86_400)
    ) -> PreparedTrigger {
        var trigger = Trigger(type: type.key, recipients: recipients, payload: payload, sendAt: sendAt)
        trigger.cancellationKey = cancellationKey
        return PreparedTrigger(eventID: Identifier.make("ev", at: StoreContractTests.base), trigger: trigger, eventType: type, expiresAt: expiresAt)
    }

    /// Accepts one trigger that must be accepted (not replayed); returns its receipt.
    @discardableResult
    func accept(_ trigger: PreparedTrigger, tenantID: String? = nil, idempotency: IdempotencyClaim? = nil, at now: Date) async throws
        -> TriggerReceipt
    {
        let outcome = try await store.accept(tenantID: tenantID ?? self.tenantID, triggers: [trigger], idempotency: idempotency, now: now)
        guard case .accepted(let receipts) = outcome, receipts.count == 1 else {
            Issue.record("expected one accepted receipt, got \(outcome)")
            throw StoreContractFailure.unexpected("\(outcome)")
        }
        return receipts[0]
    }

    /// The event's messages in the order they were written (row number ascending).
    func messages(event eventID: String, tenantID: String? = nil) async throws -> [Message] {
        try await store.messages(tenantID: tenantID ?? self.tenantID, MessageQuery(eventID: eventID, limit: 1000)).items
            .sorted { (Message.rowID($0.id) ?? 0) < (Message.rowID($1.id) ?? 0) }
    }

    /// Every message of the tenant, in the order written.
    func allMessages() async throws -> [Message] {
        try await store.messages(tenantID: tenantID, MessageQuery(limit: 1000)).items
            .sorted { (Message.rowID($0.id) ?? 0) < (Message.rowID($1.id) ?? 0) }
    }

    /// A message with its attempts, which must exist.
    func message(_ rowID: Int64) async throws -> (Message, [DeliveryAttempt]) {
        try #require(try await store.message(tenantID: tenantID, id: rowID), "message \(rowID) is missing")
    }

    /// What a dispatcher reports for a claimed message.
    static func outcome(
        _ claimed: ClaimedMessage, _ status: MessageStatus, at now: Date, reason: String? = nil, detail: String? = nil, retryAt: Date? = nil,
        inbox: InboxContent? = nil
    ) -> DeliveryOutcome {
        let result: DeliveryAttempt.Outcome =
            switch status {
            case .delivered: .delivered
            case .sent: .sent
            case .queued, .deadLettered: .transientFailure
            default: .permanentFailure
            }
        return DeliveryOutcome(
            rowID: claimed.rowID, status: status, reason: reason, retryAt: retryAt,
            attempt: DeliveryAttempt(number: claimed.attempt, startedAt: now, durationMs: 12, outcome: result, detail: detail), inbox: inbox)
    }
}

enum StoreContractFailure: Error {
    case unexpected(String)
}

extension HeraldError {
    var isConflict: Bool {
        if case .conflict = self { return true }
        return false
    }

    var isInvalid: Bool {
        if case .invalid = self { return true }
        return false
    }
}
