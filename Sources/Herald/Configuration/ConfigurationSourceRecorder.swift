import Configuration
import Synchronization

/// Keeps the last access swift-configuration's `ConfigReader` reports, so the reader of a key learns which
/// provider answered (the last one it asked) and under which name (the variable it looked up).
final class ConfigurationSourceRecorder: AccessReporter, Sendable {
    private let last = Mutex<AccessEvent?>(nil)

    func report(_ event: AccessEvent) {
        last.withLock { $0 = event }
    }

    /// The event of the latest read, taken so the next read starts clean.
    func take() -> AccessEvent? {
        last.withLock { event in
            defer { event = nil }
            return event
        }
    }
}
