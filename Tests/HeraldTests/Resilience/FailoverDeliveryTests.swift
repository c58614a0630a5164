import Foundation
import Herald
import Synchronization
import Testing

/// FailoverDelivery over scripted providers: which provider is tried, what the message's result is, and
/// when a failure costs the message an attempt.
@Suite("Failover delivery over circuit breakers")
struct FailoverDeliveryTests {
    /// A provider that answers from a list (repeating the last answer) and counts its calls.
    final class ScriptedProvider: MessageProvider {
        let name: String
        var circuitKey: String { "test \(name)" }
        private let answers: [ProviderOutcome]
        private let calls = Mutex(0)
        private let inFlight = Mutex((now: 0, most: 0))
        let delay: Duration

        init(_ name: String, _ answers: [ProviderOutcome], delay: Duration = .zero) {
            self.name = name
            self.answers = answers
            self.delay = delay
        }

        var callCount: Int { calls.withLock { $0 } }
        var mostInFlight: Int { inFlight.withLock { $0.most } }

        func send(_ outgoing: OutgoingMessage) async -> ProviderOutcome {
            let index = calls.withLock { count in
                defer { count += 1 }
                return count
            }
            inFlight.withLock {
                $0.now += 1; $0.most = max($0.most, $0.now)
            }
            if delay > .zero { try? await Task.sleep(for: delay) }
            inFlight.withLock { $0.now -= 1 }
            return answers[min(index, answers.count - 1)]
        }
    }

    static func outgoing(_ row: Int64 = 1) -> OutgoingMessage {
        OutgoingMessage(
            message: ClaimedMessage(
                rowID: row, tenantID: "tn", eventID: "ev", channel: .webhook, priority: .medium, attempt: 1, subscriber: Subscriber(id: "s")),
            event: EventContext(id: "ev", tenantID: "tn", tenantName: "T", type: "ping", payload: [:], createdAt: Date()),
            content: RenderedContent(locale: "en", parts: ["body": "{}"]))
    }

    func failover(threshold: Int = 3, openSeconds: Double = 30) -> FailoverDelivery {
        FailoverDelivery(circuits: CircuitBreakers(settings: CircuitBreaker.Settings(failureThreshold: threshold, openSeconds: openSeconds)))
    }

    @Test func theFirstProviderThatTakesItWins() async {
        let primary = ScriptedProvider("a", [.accepted(detail: "202")])
        let secondary = ScriptedProvider("b", [.delivered(detail: nil)])
        #expect(await failover().deliver(Self.outgoing(), via: [primary, secondary]) == .sent(detail: "via a: 202"))
        #expect(secondary.callCount == 0)
    }

    @Test func anUnavailablePrimaryHandsOverToTheSecondary() async {
        let primary = ScriptedProvider("a", [.unavailable("HTTP 503")])
        let secondary = ScriptedProvider("b", [.delivered(detail: "HTTP 200")])
        #expect(await failover().deliver(Self.outgoing(), via: [primary, secondary]) == .delivered(detail: "via b (a: HTTP 503): HTTP 200"))
    }

    @Test func anUnavailableProviderWhoseCircuitStaysClosedCostsAnAttempt() async {
        let primary = ScriptedProvider("a", [.unavailable("timeout")])
        #expect(await failover().deliver(Self.outgoing(), via: [primary]) == .transientFailure("a: timeout"))
    }

    @Test func failuresCountUntilTheCircuitOpensAndThenMessagesWaitWithoutBeingSent() async {
        let delivery = failover(threshold: 2, openSeconds: 30)
        let primary = ScriptedProvider("a", [.unavailable("HTTP 503")])
        #expect(await delivery.deliver(Self.outgoing(), via: [primary]) == .transientFailure("a: HTTP 503"))
        #expect(await delivery.deliver(Self.outgoing(), via: [primary]) == .transientFailure("a: HTTP 503"), "the failure that opens it")
        guard case .deferred(let detail, let retryAfter) = await delivery.deliver(Self.outgoing(), via: [primary]) else {
            Issue.record("an open circuit should defer")
            return
        }
        #expect(detail == "a: circuit open" && retryAfter > 29 && retryAfter <= 30)
        #expect(primary.callCount == 2, "while open, the provider is not called at all")
    }

    @Test func aRequestAlreadyUnderWayWhenTheCircuitOpensDefers() async {
        let delivery = failover(threshold: 1, openSeconds: 30)
        let primary = ScriptedProvider("a", [.unavailable("timeout")], delay: .milliseconds(50))
        // Both are let through while the circuit is closed; whichever fails second finds it open.
        async let first = delivery.deliver(Self.outgoing(1), via: [primary])
        async let second = delivery.deliver(Self.outgoing(2), via: [primary])
        let results = await [first, second]
        #expect(primary.callCount == 2)
        #expect(results.filter { $0 == .transientFailure("a: timeout") }.count == 1, "\(results)")
        #expect(results.filter { if case .deferred("a: timeout; circuit open", _) = $0 { true } else { false } }.count == 1, "\(results)")
    }

    @Test func aFailedProbeDefersToo() async throws {
        let delivery = failover(threshold: 1, openSeconds: 0.05)
        let primary = ScriptedProvider("a", [.unavailable("refused")])
        _ = await delivery.deliver(Self.outgoing(), via: [primary])
        try await Task.sleep(for: .milliseconds(80))
        #expect(delivery.circuits.state(primary.circuitKey).name == "open")
        guard case .deferred = await delivery.deliver(Self.outgoing(), via: [primary]) else {
            Issue.record("a failed probe should defer, not cost an attempt")
            return
        }
        #expect(primary.callCount == 2, "the probe went out")
    }

    @Test func aSecondaryCarriesOnWhileThePrimaryCircuitIsOpen() async {
        let delivery = failover(threshold: 1)
        let primary = ScriptedProvider("a", [.unavailable("HTTP 500")])
        let secondary = ScriptedProvider("b", [.delivered(detail: nil)])
        for _ in 0..<5 {
            guard case .delivered = await delivery.deliver(Self.outgoing(), via: [primary, secondary]) else {
                Issue.record("the secondary should deliver")
                return
            }
        }
        #expect(primary.callCount == 1, "tried once, then skipped while its circuit is open")
        #expect(secondary.callCount == 5)
    }

    @Test func providerRejectionsTryTheNextAndFailOnlyWhenNoneIsLeft() async {
        let refused = ScriptedProvider("a", [.providerRejected("destination refused: loopback")])
        let secondary = ScriptedProvider("b", [.delivered(detail: nil)])
        #expect(
            await failover().deliver(Self.outgoing(), via: [refused, secondary]) == .delivered(detail: "via b (a: destination refused: loopback)"))
        #expect(await failover().deliver(Self.outgoing(), via: [refused]) == .permanentFailure("a: destination refused: loopback"))
    }

    @Test func aRejectedMessageIsNotOfferedToAnyOtherProvider() async {
        let primary = ScriptedProvider("a", [.rejected("HTTP 400: bad payload")])
        let secondary = ScriptedProvider("b", [.delivered(detail: nil)])
        #expect(await failover().deliver(Self.outgoing(), via: [primary, secondary]) == .permanentFailure("a: HTTP 400: bad payload"))
        #expect(secondary.callCount == 0)
        #expect(await failover().deliver(Self.outgoing(), via: []) == .permanentFailure("no provider is configured for the webhook channel"))
    }

    @Test func aBatchKeepsItsOrderAndItsConcurrencyLimit() async {
        let provider = ScriptedProvider("a", [.delivered(detail: nil)], delay: .milliseconds(20))
        let batch = (1...20).map { Self.outgoing(Int64($0)) }
        let results = await failover().deliver(batch, concurrency: 4) { outgoing in
            outgoing.message.rowID % 5 == 0 ? .failure(ChannelFailure(.permanentFailure("row \(outgoing.message.rowID)"))) : .success([provider])
        }
        #expect(results.count == 20)
        for (index, result) in results.enumerated() {
            let row = index + 1
            #expect(result == (row % 5 == 0 ? .permanentFailure("row \(row)") : .delivered(detail: "via a")))
        }
        #expect(provider.mostInFlight <= 4 && provider.mostInFlight >= 2)
    }

    /// A provider whose requests all fail, each answering only once every one of them is under way.
    final class GatheredFailures: MessageProvider {
        let name = "a"
        var circuitKey: String { "test gathered" }
        let expected: Int
        private let arrived = Mutex(0)

        init(expected: Int) { self.expected = expected }

        func send(_ outgoing: OutgoingMessage) async -> ProviderOutcome {
            arrived.withLock { $0 += 1 }
            while arrived.withLock({ $0 }) < expected { await Task.yield() }
            return .unavailable("timeout")
        }
    }

    @Test func failuresComingBackTogetherSpendOnlyTheThresholdsAttempts() async {
        let delivery = failover(threshold: 3, openSeconds: 30)
        let provider = GatheredFailures(expected: 64)
        let batch = (1...64).map { Self.outgoing(Int64($0)) }
        let results = await delivery.deliver(batch, concurrency: 64) { _ in .success([provider]) }
        // Each failure reads the circuit as it is recorded: three found it closed; the others found it open.
        #expect(results.filter { $0 == .transientFailure("a: timeout") }.count == 3, "\(results)")
        #expect(results.filter { if case .deferred("a: timeout; circuit open", _) = $0 { true } else { false } }.count == 61)
    }

    @Test func aFailureCountsOnlyWhileTheCircuitIsClosed() {
        let circuits = CircuitBreakers(settings: CircuitBreaker.Settings(failureThreshold: 3, openSeconds: 30))
        #expect((1...5).map { _ in circuits.recordFailureCounted("k") } == [true, true, true, false, false])
        circuits.recordSuccess("k")
        #expect(circuits.recordFailureCounted("k"))
    }
}
