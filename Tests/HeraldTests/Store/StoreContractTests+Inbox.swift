import Foundation
import Herald
import Testing

/// The in-app inbox: order, pages, counts and marks.
extension StoreContractTests {
    @Test(
        "delivered in-app messages come back newest first, paged by cursor without gaps or repeats; counts and marks match",
        arguments: StoreBackend.available)
    func inboxOrder(_ backend: StoreBackend) async throws {
        let fixture = try await StoreContractFixture.make(on: backend, subscribers: ["ana", "bo"])
        let store = fixture.store
        let tenantID = fixture.tenantID
        let type = Self.inAppType("post")

        // Seven for ana, one for bo, and one for ana that fails: only ana's seven delivered ones are her inbox.
        var anaEvents: [String] = []
        for index in 1...7 {
            let trigger = fixture.prepared(type, to: [.subscriber("ana")], payload: ["seq": .number(Double(index))])
            try await fixture.accept(trigger, at: Self.at(Double(index)))
            anaEvents.append(trigger.eventID)
        }
        let boEvent = fixture.prepared(type, to: [.subscriber("bo")])
        try await fixture.accept(boEvent, at: Self.at(8))
        let failingEvent = fixture.prepared(type, to: [.subscriber("ana")])
        try await fixture.accept(failingEvent, at: Self.at(9))

        let claimed = try await store.claimMessages(owner: "A", scope: .all, limit: 50, now: Self.at(20), leaseUntil: Self.at(80)).messages
        try #require(claimed.count == 9)
        let byEvent = Dictionary(uniqueKeysWithValues: claimed.map { ($0.eventID, $0) })
        var outcomes: [DeliveryOutcome] = []
        for (index, eventID) in anaEvents.enumerated() {
            let message = try #require(byEvent[eventID])
            outcomes.append(
                StoreContractFixture.outcome(
                    message, .delivered, at: Self.at(21), inbox: InboxContent(title: "Item \(index + 1)", body: "Body \(index + 1)", actionURL: nil)))
        }
        outcomes.append(
            StoreContractFixture.outcome(
                try #require(byEvent[boEvent.eventID]), .delivered, at: Self.at(21), inbox: InboxContent(title: "Bo's", body: "b", actionURL: nil)))
        outcomes.append(StoreContractFixture.outcome(try #require(byEvent[failingEvent.eventID]), .failed, at: Self.at(21), reason: "broken"))
        #expect(try await store.complete(outcomes, owner: "A", now: Self.at(21)).count == 9)

        let newestFirst = anaEvents.reversed().map { Message.publicID(byEvent[$0]!.rowID) }
        let titles = (1...7).reversed().map { "Item \($0)" }

        // Pages of three: 3, 3, 1, each page's cursor leading to the next and the last without one.
        var pages: [[InboxItem]] = []
        var cursor: Int64?
        repeat {
            let page = try await store.inbox(tenantID: tenantID, subscriberID: "ana", filter: .active, cursor: cursor, limit: 3)
            pages.append(page.items)
            cursor = try Cursor.decode(page.nextCursor)
        } while cursor != nil && pages.count < 10
        #expect(pages.map(\.count) == [3, 3, 1])
        #expect(pages.joined().map(\.id) == newestFirst)
        #expect(pages.joined().map(\.title) == titles)
        #expect(pages.joined().map(\.body) == (1...7).reversed().map { "Body \($0)" })
        #expect(pages.joined().allSatisfy { $0.eventType == "post" && $0.readAt == nil && $0.seenAt == nil && $0.archivedAt == nil })
        // A page that holds exactly what is left has no next cursor.
        let whole = try await store.inbox(tenantID: tenantID, subscriberID: "ana", filter: .active, cursor: nil, limit: 7)
        #expect(whole.items.map(\.id) == newestFirst)
        #expect(whole.nextCursor == nil)

        #expect(try await store.inboxCounts(tenantID: tenantID, subscriberID: "ana") == InboxCounts(unread: 7, unseen: 7, total: 7))
        #expect(try await store.inboxCounts(tenantID: tenantID, subscriberID: "bo") == InboxCounts(unread: 1, unseen: 1, total: 1))
        #expect(try await store.inboxCounts(tenantID: tenantID, subscriberID: "nobody") == InboxCounts(unread: 0, unseen: 0, total: 0))
        #expect(try await store.inbox(tenantID: tenantID, subscriberID: "nobody", filter: .all, cursor: nil, limit: 10).items.isEmpty)

        // Marks: read the newest, archive the oldest, see everything.
        let newest = try #require(Message.rowID(newestFirst[0]))
        let oldest = try #require(Message.rowID(newestFirst[6]))
        let bosMessage = byEvent[boEvent.eventID]!.rowID
        #expect(try await store.markRead(tenantID: tenantID, subscriberID: "ana", messageID: newest, now: Self.at(30)))
        #expect(try await store.markRead(tenantID: tenantID, subscriberID: "ana", messageID: bosMessage, now: Self.at(30)) == false, "not hers")
        #expect(try await store.archive(tenantID: tenantID, subscriberID: "ana", messageID: oldest, now: Self.at(31)))
        #expect(try await store.inboxCounts(tenantID: tenantID, subscriberID: "ana") == InboxCounts(unread: 5, unseen: 5, total: 6))
        #expect(try await store.markAllSeen(tenantID: tenantID, subscriberID: "ana", now: Self.at(32)) == 5)
        #expect(try await store.inboxCounts(tenantID: tenantID, subscriberID: "ana") == InboxCounts(unread: 5, unseen: 0, total: 6))
        #expect(try await store.inboxCounts(tenantID: tenantID, subscriberID: "bo") == InboxCounts(unread: 1, unseen: 1, total: 1), "bo's untouched")

        func ids(_ filter: InboxFilter) async throws -> [String] {
            try await store.inbox(tenantID: tenantID, subscriberID: "ana", filter: filter, cursor: nil, limit: 50).items.map(\.id)
        }
        #expect(try await ids(.active) == Array(newestFirst.prefix(6)))
        #expect(try await ids(.unread) == Array(newestFirst[1..<6]))
        #expect(try await ids(.read) == [newestFirst[0]])
        #expect(try await ids(.archived) == [newestFirst[6]])
        #expect(try await ids(.all) == newestFirst)
        let read = try #require(try await store.inbox(tenantID: tenantID, subscriberID: "ana", filter: .read, cursor: nil, limit: 1).items.first)
        #expect(read.readAt == Self.at(30))
        #expect(read.seenAt == Self.at(30))

        #expect(try await store.markAllRead(tenantID: tenantID, subscriberID: "ana", now: Self.at(40)) == 5)
        #expect(try await store.inboxCounts(tenantID: tenantID, subscriberID: "ana") == InboxCounts(unread: 0, unseen: 0, total: 6))
        #expect(try await store.messagesRead(tenantID: tenantID, subscriberID: "ana", at: Self.at(40)).count == 5)
    }
}
