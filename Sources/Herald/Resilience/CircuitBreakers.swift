import Foundation
import Synchronization

/// Every provider endpoint's circuit breaker in this process, keyed by a name such as
/// `webhook https://hooks.example.com` or `sms twilio https://api.twilio.com`. Shared by all channels
/// so that `GET /metrics` and the health answers see every circuit in one place.
public final class CircuitBreakers: Sendable {
    private let breakers = Mutex<[String: CircuitBreaker]>([:])
    public let settings: CircuitBreaker.Settings

    public init(settings: CircuitBreaker.Settings = CircuitBreaker.Settings()) {
        self.settings = settings
    }

    public func permit(_ key: String, now: Date = Date()) -> CircuitBreaker.Permission {
        breakers.withLock { all in
            all[key, default: CircuitBreaker(settings: settings)].permit(now: now)
        }
    }

    public func recordSuccess(_ key: String) {
        breakers.withLock { all in
            guard all[key] != nil else { return }
            all[key]!.recordSuccess()
        }
    }

    @discardableResult
    public func recordFailure(_ key: String, now: Date = Date()) -> Bool {
        breakers.withLock { all in
            all[key, default: CircuitBreaker(settings: settings)].recordFailure(now: now)
        }
    }

    /// Records a failure and answers whether the circuit was closed as it came in, that is, whether it counts
    /// towards opening the circuit. Looked at and recorded under one lock: of two failures that come back together
    /// after the threshold's last, one opens the circuit and the other finds it open.
    public func recordFailureCounted(_ key: String, now: Date = Date()) -> Bool {
        breakers.withLock { all in
            var breaker = all[key, default: CircuitBreaker(settings: settings)]
            let wasClosed = !breaker.isOpen
            breaker.recordFailure(now: now)
            all[key] = breaker
            return wasClosed
        }
    }

    /// Seconds until the circuit lets a request through; nil when it is closed.
    public func waitBeforeNextRequest(_ key: String, now: Date = Date()) -> Double? {
        breakers.withLock { $0[key]?.waitBeforeNextRequest(now: now) }
    }

    public func state(_ key: String) -> CircuitBreaker.State {
        breakers.withLock { $0[key]?.state ?? .closed(consecutiveFailures: 0) }
    }

    /// Every circuit seen so far, sorted by key.
    public func snapshot() -> [(key: String, state: CircuitBreaker.State)] {
        breakers.withLock { all in all.map { (key: $0.key, state: $0.value.state) }.sorted { $0.key < $1.key } }
    }
}
