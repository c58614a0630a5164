import Foundation
import Herald
import Testing

/// Flow state kept between triggers (dedup keys, digests), and the order direct recipients are planned in.
extension StoreContractTests {
    @Test(
        "a repeat within a dedup window to the same subscriber is suppressed as duplicate of the first; another key or a later one is not",
        arguments: StoreBackend.available)
    func dedupState(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let type = Self.inAppType("payment_failed") { $0.dedup = DedupSpec(window: "10m", fields: ["ref"]) }
        func trigger(ref: String, seq: Int, at seconds: Double) async throws -> (TriggerReceipt, [Message]) {
            let prepared = fixture.prepared(type, to: [.subscriber("s0")], payload: ["ref": .string(ref), "seq": .number(Double(seq))])
            let receipt = try await fixture.accept(prepared, at: Self.at(seconds))
            return (receipt, try await fixture.messages(event: prepared.eventID))
        }
        let (firstReceipt, first) = try await trigger(ref: "inv-1", seq: 1, at: 0)
        #expect(firstReceipt.messages == ["queued": 1])
        let original = try #require(first.first)
        #expect(original.status == .queued)

        let (repeatReceipt, repeated) = try await trigger(ref: "inv-1", seq: 2, at: 60)
        #expect(repeatReceipt.messages == ["suppressed": 1])
        #expect(repeated.map(\.status) == [.suppressed])
        #expect(repeated.map(\.reason) == ["duplicate"])
        #expect(repeated.map(\.duplicateOf) == [original.id])

        let (_, otherRef) = try await trigger(ref: "inv-2", seq: 3, at: 61)
        #expect(otherRef.map(\.status) == [.queued], "another ref is another event")
        // The window is measured from the original: ten minutes after it, the same ref goes again.
        let (_, afterWindow) = try await trigger(ref: "inv-1", seq: 4, at: 601)
        #expect(afterWindow.map(\.status) == [.queued])
        let (_, repeatOfNew) = try await trigger(ref: "inv-1", seq: 5, at: 602)
        #expect(repeatOfNew.map(\.duplicateOf) == [afterWindow.first?.id], "a new window starts with the new original")

        // Another subscriber's first one is theirs, not a duplicate of s0's.
        let forOther = fixture.prepared(type, to: [.subscriber("s1")], payload: ["ref": "inv-1", "seq": 6])
        #expect(try await fixture.accept(forOther, at: Self.at(603)).messages == ["queued": 1])
    }

    @Test(
        "a digest type's second event within the window is merged into the first's message, whose digest gives both items in order; after it closes a new one starts",
        arguments: StoreBackend.available)
    func digestState(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let store = fixture.store
        let type = Self.inAppType("comment_added", priority: .low) { $0.digest = DigestSpec(window: "15m") }
        let first = fixture.prepared(type, to: [.subscriber("s0")], payload: ["seq": 1])
        #expect(try await fixture.accept(first, at: Self.base).messages == ["queued": 1])
        let digestMessage = try #require(try await fixture.messages(event: first.eventID).first)
        #expect(digestMessage.status == .queued)
        #expect(digestMessage.availableAt == Self.at(900), "held until the window closes")
        #expect(digestMessage.heldUntil == Self.at(900))

        let second = fixture.prepared(type, to: [.subscriber("s0")], payload: ["seq": 2])
        #expect(try await fixture.accept(second, at: Self.at(60)).messages == ["merged": 1])
        let merged = try #require(try await fixture.messages(event: second.eventID).first)
        #expect(merged.status == .merged)
        #expect(merged.digestMessageId == digestMessage.id)
        // Another subscriber's event is not merged into s0's digest.
        let elsewhere = fixture.prepared(type, to: [.subscriber("s1")], payload: ["seq": 3])
        #expect(try await fixture.accept(elsewhere, at: Self.at(61)).messages == ["queued": 1])

        // Nothing goes before the window closes; then only the digest's own message, never the merged item.
        #expect(try await store.claimMessages(owner: "A", scope: .all, limit: 10, now: Self.at(899), leaseUntil: Self.at(960)).messages.isEmpty)
        let claimed = try await store.claimMessages(owner: "A", scope: .all, limit: 10, now: Self.at(900), leaseUntil: Self.at(960)).messages
        // (s1's digest opened a minute later, so it closes a minute later.)
        #expect(claimed.map(\.eventID) == [first.eventID])
        let own = try #require(claimed.first)
        let digestID = try #require(own.digestID, "the digest's message names its digest")
        let items = try await store.digestItems(digestID: digestID, now: Self.at(901))
        #expect(items.map(\.event.id) == [first.eventID, second.eventID])
        #expect(items.map(\.messageRowID) == [Message.rowID(digestMessage.id), Message.rowID(merged.id)].compactMap { $0 })
        #expect(items.map { $0.event.payload["seq"] ?? .null } == [.number(1), .number(2)])
        #expect(
            try await store.digestItems(digestID: digestID, now: Self.at(902)).map(\.event.id) == [first.eventID, second.eventID],
            "asked again, the same")

        // The digest is closed: the next event starts a new one.
        let third = fixture.prepared(type, to: [.subscriber("s0")], payload: ["seq": 4])
        #expect(try await fixture.accept(third, at: Self.at(903)).messages == ["queued": 1])
        let next = try #require(try await fixture.messages(event: third.eventID).first)
        #expect(next.availableAt == Self.at(903 + 900))
    }

    @Test(
        "direct recipients' messages are written in the order the request names them (repeats once), with and without flow control",
        arguments: StoreBackend.available)
    func recipientOrder(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend)
        let plain = Self.inAppType("plain")
        let recipients: [Recipient] = [
            .subscriber("s3"), .subscriber("s0"), .inline(SubscriberInput(id: "zed")), .subscriber("s4"), .subscriber("s0"), .subscriber("s1"),
        ]
        let expected = ["s3", "s0", "zed", "s4", "s1"]
        let first = fixture.prepared(plain, to: recipients)
        #expect(try await fixture.accept(first, at: Self.base).messages == ["queued": 5])
        #expect(try await fixture.messages(event: first.eventID).map(\.subscriberId) == expected)

        // A flow-controlled type plans through the flow state, and keeps the order too.
        let deduped = Self.inAppType("deduped") { $0.dedup = DedupSpec(window: "1h") }
        let second = fixture.prepared(deduped, to: recipients, payload: ["n": 1])
        #expect(try await fixture.accept(second, at: Self.at(1)).messages == ["queued": 5])
        #expect(try await fixture.messages(event: second.eventID).map(\.subscriberId) == expected)

        // Several triggers in one request: each keeps its own order.
        let third = fixture.prepared(plain, to: [.subscriber("s2"), .subscriber("zed"), .subscriber("s0")])
        let fourth = fixture.prepared(deduped, to: [.subscriber("s4"), .subscriber("s1")], payload: ["n": 2])
        let outcome = try await fixture.store.accept(tenantID: fixture.tenantID, triggers: [third, fourth], idempotency: nil, now: Self.at(2))
        guard case .accepted(let receipts) = outcome else {
            Issue.record("accepted: \(outcome)")
            return
        }
        #expect(receipts.map(\.eventId) == [third.eventID, fourth.eventID])
        #expect(try await fixture.messages(event: third.eventID).map(\.subscriberId) == ["s2", "zed", "s0"])
        #expect(try await fixture.messages(event: fourth.eventID).map(\.subscriberId) == ["s4", "s1"])
    }
}
