import Foundation
import Herald
import Testing

/// The circuit breaker as a pure state machine: every transition driven by explicit times.
@Suite("Circuit breaker transitions")
struct CircuitBreakerTests {
    let start = Date(timeIntervalSince1970: 1_000_000)
    let settings = CircuitBreaker.Settings(failureThreshold: 3, openSeconds: 2, maxOpenSeconds: 5, probeTimeoutSeconds: 10)

    func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }

    @Test func staysClosedBelowTheThresholdAndASuccessResetsTheCount() {
        var breaker = CircuitBreaker(settings: settings)
        let permission = breaker.permit(now: at(0))
        #expect(permission == .allowed)
        let first = breaker.recordFailure(now: at(0))
        let second = breaker.recordFailure(now: at(0))
        #expect(!first && !second)
        #expect(breaker.state == .closed(consecutiveFailures: 2))
        breaker.recordSuccess()
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        let third = breaker.recordFailure(now: at(1))
        let fourth = breaker.recordFailure(now: at(1))
        #expect(!third && !fourth, "counting starts again after a success")
        #expect(!breaker.isOpen && breaker.waitBeforeNextRequest(now: at(1)) == nil)
    }

    @Test func opensAtTheThresholdAndRejectsUntilTheCooldownEnds() {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<2 { breaker.recordFailure(now: at(0)) }
        let opened = breaker.recordFailure(now: at(0))
        #expect(opened, "the third failure opens it")
        #expect(breaker.state == .open(until: at(2)))
        let permission = breaker.permit(now: at(0.5))
        #expect(permission == .rejected(retryAfter: 1.5))
        #expect(breaker.waitBeforeNextRequest(now: at(0.5)) == 1.5)
        // A request let through before it opened, failing late, changes nothing.
        let late = breaker.recordFailure(now: at(1))
        #expect(!late)
        #expect(breaker.state == .open(until: at(2)))
    }

    @Test func halfOpensWithOneProbeAtATime() {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<3 { breaker.recordFailure(now: at(0)) }
        let probe = breaker.permit(now: at(2))
        #expect(probe == .probe)
        #expect(breaker.state == .halfOpen(probeSince: at(2)))
        let other = breaker.permit(now: at(2.1))
        #expect(other == .rejected(retryAfter: 1), "others wait while the probe is out")
        #expect(breaker.waitBeforeNextRequest(now: at(2.1)) == 1)
        // A probe that never reports back is presumed lost after the probe timeout.
        let next = breaker.permit(now: at(12))
        #expect(next == .probe)
    }

    @Test func aSuccessfulProbeClosesItAndResetsTheCooldown() {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<3 { breaker.recordFailure(now: at(0)) }
        _ = breaker.permit(now: at(2))
        breaker.recordFailure(now: at(2))  // failed probe: open for 4 s
        _ = breaker.permit(now: at(6))
        breaker.recordSuccess()
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        for _ in 0..<3 { breaker.recordFailure(now: at(10)) }
        #expect(breaker.state == .open(until: at(12)), "back to the first cooldown")
    }

    @Test func eachFailedProbeDoublesTheCooldownUpToTheMaximum() {
        var breaker = CircuitBreaker(settings: settings)
        for _ in 0..<3 { breaker.recordFailure(now: at(0)) }
        var now = 2.0
        var openings: [Double] = []
        for _ in 0..<4 {
            let probe = breaker.permit(now: at(now))
            #expect(probe == .probe)
            let reopened = breaker.recordFailure(now: at(now))
            #expect(reopened, "a failed probe opens it again")
            guard case .open(let until) = breaker.state else {
                Issue.record("not open after a failed probe: \(breaker.state)")
                return
            }
            openings.append(until.timeIntervalSince(at(now)))
            let meanwhile = breaker.permit(now: at(now + 0.5))
            #expect(meanwhile != .probe)
            now = until.timeIntervalSince(start)
        }
        #expect(openings == [4, 5, 5, 5])
    }

    @Test func theRegistryKeepsOneCircuitPerKey() {
        let circuits = CircuitBreakers(settings: CircuitBreaker.Settings(failureThreshold: 1, openSeconds: 30))
        #expect(circuits.permit("webhook a") == .allowed)
        #expect(circuits.recordFailure("webhook a"))
        #expect(circuits.state("webhook a").name == "open")
        #expect(circuits.permit("webhook b") == .allowed, "another endpoint is unaffected")
        #expect(circuits.waitBeforeNextRequest("webhook b") == nil)
        #expect((circuits.waitBeforeNextRequest("webhook a") ?? 0) > 29)
        #expect(circuits.snapshot().map(\.key) == ["webhook a", "webhook b"])
    }
}
