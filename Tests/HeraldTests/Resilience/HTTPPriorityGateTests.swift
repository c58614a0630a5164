import Synchronization
import Testing

@testable import Herald

/// The outbound HTTP client's per-host slots: bulk never holds the reserved ones, waiters are admitted most
/// urgent first, and a host that speaks HTTP/2 needs no slot.
@Suite struct HTTPPriorityGateTests {
    /// The order requests got in.
    final class Order: Sendable {
        let names = Mutex<[String]>([])
    }

    /// A request that holds its slot until `release` is called, and says when it got in.
    final class Held: Sendable {
        let admitted = Atomic<Bool>(false)
        private let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        private let released = Atomic<Bool>(false)

        func run(_ slots: HTTPPriorityGate, host: String, priority: Priority, order: Order, name: String) async {
            await slots.withSlot(host: host, priority: priority) {
                order.names.withLock { $0.append(name) }
                admitted.store(true, ordering: .sequentiallyConsistent)
                await withCheckedContinuation { continuation in
                    let resumeNow = gate.withLock { stored -> Bool in
                        if released.load(ordering: .sequentiallyConsistent) { return true }
                        stored = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }

        func release() {
            released.store(true, ordering: .sequentiallyConsistent)
            gate.withLock { $0.take() }?.resume()
        }
    }

    static func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test("bulk fills only the unreserved slots; a critical request gets in at once, and waiters go most urgent first")
    func criticalNeverQueuesBehindBulk() async throws {
        let gate = HTTPPriorityGate(capacity: 3, reserved: 1)
        let host = "https://hooks.example:443"
        let order = Order()
        let bulk = (0..<4).map { _ in Held() }
        let bulkTasks = bulk.enumerated().map { index, held in
            Task { await held.run(gate, host: host, priority: .low, order: order, name: "bulk\(index)") }
        }
        // Two bulk requests hold the two unreserved slots; the other two wait.
        try await Self.until { gate.load(host: host) == (2, 2) }

        let critical = Held()
        let criticalTask = Task { await critical.run(gate, host: host, priority: .critical, order: order, name: "critical") }
        try await Self.until { critical.admitted.load(ordering: .sequentiallyConsistent) }
        #expect(gate.load(host: host) == (3, 2), "the reserved slot took the critical request with bulk still waiting")

        // A high request waits now (every slot is held) and is admitted before the waiting bulk.
        let high = Held()
        let highTask = Task { await high.run(gate, host: host, priority: .high, order: order, name: "high") }
        try await Self.until { gate.load(host: host).waiting == 3 }
        critical.release()
        await criticalTask.value
        try await Self.until { high.admitted.load(ordering: .sequentiallyConsistent) }
        high.release()
        await highTask.value
        for held in bulk { held.release() }
        for task in bulkTasks { await task.value }
        // Two bulk requests got in first, then critical, then high ahead of the two bulk requests that waited.
        let admitted = order.names.withLock { $0 }
        #expect(admitted.count == 6)
        #expect(admitted.prefix(2).allSatisfy { $0.hasPrefix("bulk") } && admitted[2] == "critical" && admitted[3] == "high", "\(admitted)")
        #expect(admitted.suffix(2).allSatisfy { $0.hasPrefix("bulk") }, "\(admitted)")
        #expect(gate.load(host: host) == (0, 0), "a host with nothing in flight is forgotten")
    }

    @Test("a host that answered over HTTP/2 multiplexes: its requests take no slot")
    func multiplexedHostsPass() async throws {
        let gate = HTTPPriorityGate(capacity: 1, reserved: 0)
        let host = "https://api.push.example:443"
        gate.hostMultiplexes(host)
        let order = Order()
        let held = (0..<3).map { _ in Held() }
        let tasks = held.enumerated().map { index, request in
            Task { await request.run(gate, host: host, priority: .low, order: order, name: "push\(index)") }
        }
        try await Self.until { held.allSatisfy { $0.admitted.load(ordering: .sequentiallyConsistent) } }
        #expect(gate.load(host: host) == (0, 0))
        for request in held { request.release() }
        for task in tasks { await task.value }
    }
}
