import Foundation
import Herald
import Testing

/// What a fan-out reads to leave requests the machine: quiet only with no request in flight and none lately.
@Suite("Request activity")
struct RequestActivityTests {
    @Test("a node is quiet before any request and a while after its last; never while one is in flight")
    func quietOnlyWithoutRequests() async throws {
        let activity = RequestActivity()
        #expect(activity.isQuiet, "no request yet")
        let seenInFlight = await activity.serving { activity.isQuiet }
        #expect(!seenInFlight, "a request in flight")
        #expect(!activity.isQuiet, "a request just ended")
        try await Task.sleep(for: RequestActivity.quietAfter + .milliseconds(100))
        #expect(activity.isQuiet, "quiet again after \(RequestActivity.quietAfter)")

        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await activity.serving { throw Refused() } }
        #expect(!activity.isQuiet, "a request that failed ended too, and counts as lately")
        let nested = await activity.serving { await activity.serving { activity.isQuiet } }
        #expect(!nested)
    }
}
