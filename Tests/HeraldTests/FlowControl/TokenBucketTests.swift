import Foundation
import Herald
import Testing

@Suite("Token buckets and durations")
struct TokenBucketTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("a burst up to capacity passes, then one token per period/capacity")
    func takeAndRefill() {
        var bucket = TokenBucket(capacity: 3, periodSeconds: 60, now: t0)
        var taken = (0..<4).map { _ in bucket.take(now: t0) }
        #expect(taken == [true, true, true, false])
        taken = [19.9, 20, 20].map { bucket.take(now: t0.addingTimeInterval($0)) }
        #expect(taken == [false, true, false])
        #expect(bucket.nextToken(now: t0.addingTimeInterval(20)) == t0.addingTimeInterval(40))
        // A long quiet spell refills to capacity, never beyond.
        taken = (0..<4).map { _ in bucket.take(now: t0.addingTimeInterval(3600)) }
        #expect(taken == [true, true, true, false])
    }

    @Test("reservations spread a burst at exactly the allowed rate")
    func reservations() {
        var bucket = TokenBucket(capacity: 2, periodSeconds: 10, now: t0)
        let times = (0..<6).map { _ in bucket.reserve(now: t0) }
        #expect(times.map { $0.timeIntervalSince(t0) } == [0, 0, 5, 10, 15, 20])
        // Later reservations queue behind earlier ones.
        #expect(bucket.reserve(now: t0.addingTimeInterval(1)).timeIntervalSince(t0) == 25)
    }

    @Test("durations", arguments: [("90s", 90.0), ("15m", 900), ("2h", 7200), ("1d", 86_400), ("1h30m", 5400), ("45", 45)])
    func durations(_ example: (String, Double)) {
        #expect(DurationText.seconds(example.0) == example.1)
    }

    @Test("not durations", arguments: ["", "m", "15x", "-5", "0", "10m5"])
    func notDurations(_ text: String) {
        #expect(DurationText.seconds(text) == nil)
    }
}
