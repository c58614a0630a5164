import Foundation
import Herald
import Synchronization

/// A clock tests move forward: the real time plus an offset, so services keep ticking while a test jumps
/// over a 15-minute digest window or to tomorrow's 08:00.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    init(startingAt start: Date? = nil) {
        if let start { offset.withLock { $0 = start.timeIntervalSinceNow } }
    }

    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    func advance(by seconds: TimeInterval) {
        offset.withLock { $0 += seconds }
    }

    /// Sets the clock to `date` (it keeps running from there).
    func set(_ date: Date) {
        offset.withLock { $0 = date.timeIntervalSinceNow }
    }

    var herald: HeraldClock { HeraldClock { [self] in self.now } }
}
