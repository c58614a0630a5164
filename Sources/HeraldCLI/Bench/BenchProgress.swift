import Foundation
import Synchronization

/// A progress bar on standard error, redrawn at most ten times a second.
final class BenchProgress: Sendable {
    let label: String
    let total: Int
    private let lastDrawn = Mutex<ContinuousClock.Instant?>(nil)

    init(label: String, total: Int) {
        self.label = label
        self.total = max(1, total)
    }

    func update(_ done: Int) {
        let now = ContinuousClock.now
        let due = lastDrawn.withLock { last in
            guard last.map({ $0.duration(to: now) >= .milliseconds(100) }) ?? true else { return false }
            last = now
            return true
        }
        if due { draw(done) }
    }

    func finish(_ done: Int) {
        draw(done)
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw(_ done: Int) {
        let width = 30
        let filled = min(width, width * done / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total)".utf8))
    }
}

/// This process's resident memory, from /proc (Linux).
enum ResidentMemory {
    static func currentMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }

    /// Samples RSS every 50 ms on its own thread until stopped; answers the peak.
    final class Sampler: Sendable {
        private let peak = Mutex<Double>(0)
        private let running = Atomic<Bool>(false)

        func start() {
            running.store(true, ordering: .relaxed)
            let thread = Thread { [self] in
                while running.load(ordering: .relaxed) {
                    let now = ResidentMemory.currentMB()
                    peak.withLock { $0 = Swift.max($0, now) }
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
            thread.start()
        }

        func stop() -> Double {
            running.store(false, ordering: .relaxed)
            return peak.withLock { Swift.max($0, ResidentMemory.currentMB()) }
        }
    }
}
