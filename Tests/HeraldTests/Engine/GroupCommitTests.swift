import Foundation
import Herald
import Testing

@Suite("Group commit of concurrent single triggers", .dropsPostgresSchemas)
struct GroupCommitTests {
    static func refused(_ index: Int) -> Bool {
        index >= 200 ? ((index - 200) / 2) % 10 == 9 : index % 10 == 9
    }

    @Test(
        "300 concurrent triggers: each answered on its own; a refused one takes nothing else down; an idempotency key used twice at once stores one event",
        arguments: StoreBackend.available)
    func concurrentTriggers(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(10)
        enum Answer: Sendable { case accepted(String), replayed(String), invalid([String]), conflict }
        let answers = try await withThrowingTaskGroup(of: (Int, Answer).self) { group in
            for index in 0..<300 {
                group.addTask {
                    // Every tenth names a subscriber that does not exist; indexes 200..<300 are 50 pairs, each pair
                    // the same request with the same idempotency key.
                    let slot = index >= 200 ? (index - 200) / 2 : index
                    let recipient = Self.refused(index) ? "ghost-\(slot)" : ids[slot % 10]
                    let key = index >= 200 ? "key-\((index - 200) / 2)" : nil
                    let title = index >= 200 ? "Pair \((index - 200) / 2)" : "Notice \(index)"
                    let trigger = Trigger(
                        type: "announcement_posted", recipients: [.subscriber(recipient)], payload: ["title": .string(title), "excerpt": "x"])
                    do {
                        let (receipt, replayed) = try await engine.trigger(trigger, tenantID: tenant.id, idempotencyKey: key)
                        return (index, replayed ? .replayed(receipt.eventId) : .accepted(receipt.eventId))
                    } catch HeraldError.invalid(let errors) {
                        return (index, .invalid(errors.map(\.field)))
                    } catch HeraldError.conflict {
                        return (index, .conflict)
                    }
                }
            }
            var all: [Int: Answer] = [:]
            for try await (index, answer) in group { all[index] = answer }
            return all
        }
        var accepted = Set<String>()
        for index in 0..<300 {
            switch answers[index]! {
            case .accepted(let id):
                #expect(!Self.refused(index))
                accepted.insert(id)
            case .replayed(let id):
                #expect(index >= 200, "only requests that share a key are replayed")
                let partner = index % 2 == 0 ? index + 1 : index - 1
                if case .accepted(let first) = answers[partner]! { #expect(first == id, "a replay answers the first receipt") }
            case .invalid(let fields):
                #expect(Self.refused(index))
                #expect(fields == ["recipients[0]"])
            case .conflict:
                Issue.record("no key was reused with another body")
            }
        }
        // 30 refused: 20 of the first 200, and both requests of 5 of the 50 pairs.
        let refused = answers.values.filter { if case .invalid = $0 { true } else { false } }.count
        #expect(refused == 30)
        #expect(accepted.count == 180 + 45, "180 unkeyed, and one event for each of the 45 pairs with a known subscriber")
        let stored = try await engine.events(tenantID: tenant.id, type: nil, cursor: nil, limit: 500)
        #expect(Set(stored.items.map(\.id)) == accepted, "exactly the acknowledged events are stored")
    }
}
