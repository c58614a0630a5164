import Foundation

/// A circuit breaker for one provider endpoint, as a plain state machine: ask ``permit(now:)`` before
/// sending, then report ``recordSuccess()`` or ``recordFailure(now:)``. Time comes in as an argument, so
/// every transition is tested without a clock or a socket.
///
/// Closed, it lets everything through and counts consecutive failures. At `failureThreshold` it opens:
/// nothing is sent for `openSeconds`, and callers defer their messages rather than spend their retries
/// on a provider known to be down. Then it half-opens and lets exactly one probe through; a success
/// closes it, a failure opens it again for twice as long (up to `maxOpenSeconds`).
public struct CircuitBreaker: Sendable, Hashable {
    public struct Settings: Sendable, Hashable {
        /// Consecutive failures that open the circuit.
        public var failureThreshold: Int
        /// How long the circuit stays open the first time.
        public var openSeconds: Double
        /// The longest it stays open after repeated failed probes.
        public var maxOpenSeconds: Double
        /// A probe that has not reported back by then is presumed lost, and another is allowed.
        public var probeTimeoutSeconds: Double

        public init(failureThreshold: Int = 5, openSeconds: Double = 2, maxOpenSeconds: Double = 30, probeTimeoutSeconds: Double = 30) {
            self.failureThreshold = max(1, failureThreshold)
            self.openSeconds = max(0.01, openSeconds)
            self.maxOpenSeconds = max(self.openSeconds, maxOpenSeconds)
            self.probeTimeoutSeconds = probeTimeoutSeconds
        }
    }

    public enum State: Sendable, Hashable {
        case closed(consecutiveFailures: Int)
        case open(until: Date)
        case halfOpen(probeSince: Date)

        /// The name operators see in metrics and health answers.
        public var name: String {
            switch self {
            case .closed: "closed"
            case .open: "open"
            case .halfOpen: "half_open"
            }
        }
    }

    /// What the caller may do now.
    public enum Permission: Sendable, Hashable {
        case allowed
        /// The one request that tests whether the provider is back.
        case probe
        /// Do not send; try again after this many seconds.
        case rejected(retryAfter: Double)
    }

    public let settings: Settings
    public private(set) var state: State = .closed(consecutiveFailures: 0)
    /// How long the next opening lasts; doubles with each failed probe, resets on success.
    private var cooldown: Double

    public init(settings: Settings = Settings()) {
        self.settings = settings
        self.cooldown = settings.openSeconds
    }

    public var isOpen: Bool {
        if case .closed = state { return false }
        return true
    }

    /// How long until a request may go through, without changing anything: nil while closed, the rest of
    /// the opening while open, and about a probe's length while a probe is out.
    public func waitBeforeNextRequest(now: Date) -> Double? {
        switch state {
        case .closed: nil
        case .open(let until): max(0, until.timeIntervalSince(now))
        case .halfOpen: min(1, cooldown)
        }
    }

    public mutating func permit(now: Date) -> Permission {
        switch state {
        case .closed:
            return .allowed
        case .open(let until):
            if now < until { return .rejected(retryAfter: until.timeIntervalSince(now)) }
            state = .halfOpen(probeSince: now)
            return .probe
        case .halfOpen(let since):
            if now.timeIntervalSince(since) >= settings.probeTimeoutSeconds {
                state = .halfOpen(probeSince: now)
                return .probe
            }
            // One probe at a time; the others wait about as long as a probe takes.
            return .rejected(retryAfter: min(1, cooldown))
        }
    }

    public mutating func recordSuccess() {
        state = .closed(consecutiveFailures: 0)
        cooldown = settings.openSeconds
    }

    /// Returns true when this failure opened the circuit.
    @discardableResult
    public mutating func recordFailure(now: Date) -> Bool {
        switch state {
        case .closed(let failures):
            if failures + 1 >= settings.failureThreshold {
                state = .open(until: now.addingTimeInterval(cooldown))
                return true
            }
            state = .closed(consecutiveFailures: failures + 1)
            return false
        case .halfOpen:
            cooldown = min(cooldown * 2, settings.maxOpenSeconds)
            state = .open(until: now.addingTimeInterval(cooldown))
            return true
        case .open:
            // A request let through before the circuit opened came back failed: nothing new to learn.
            return false
        }
    }
}
