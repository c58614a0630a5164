import Testing

@testable import Herald

/// The priority pool's decisions with no socket (the SMTP pool's and the HTTP gate's): connections are plain
/// names, and each test plays leases and releases and checks who gets what, in which order.
@Suite("Priority pool state machine")
struct PriorityPoolStateMachineTests {
    typealias Machine = PriorityPoolStateMachine<String>

    /// Leases `priority` and expects a new connection to be opened for it.
    static func connect(_ machine: inout Machine, _ priority: Priority) {
        guard case .connect = machine.lease(priority) else {
            Issue.record("expected a connect for \(priority)")
            return
        }
    }

    /// Leases `priority` and expects to be parked; answers the waiter.
    static func park(_ machine: inout Machine, _ priority: Priority) -> Machine.WaiterID? {
        guard case .wait(let id) = machine.lease(priority) else {
            Issue.record("expected \(priority) to wait")
            return nil
        }
        return id
    }

    /// The waiter a connection went to, or nil when it went to idle.
    static func takenBy(_ handovers: [Machine.Handover]) -> Machine.WaiterID? {
        guard let first = handovers.first else { return nil }
        guard handovers.count == 1, case .take(_, let id) = first else {
            Issue.record("expected one connection handed over, got \(handovers)")
            return nil
        }
        return id
    }

    @Test(arguments: [
        (capacity: 1, critical: 1, high: 1, medium: 1, low: 1),
        (capacity: 2, critical: 2, high: 2, medium: 1, low: 1),
        (capacity: 4, critical: 4, high: 4, medium: 3, low: 3),
        (capacity: 64, critical: 64, high: 64, medium: 63, low: 63),
    ])
    func oneConnectionIsKeptForCriticalAndHighWhenThereAreTwoOrMore(
        _ row: (capacity: Int, critical: Int, high: Int, medium: Int, low: Int)
    ) {
        let machine = Machine(capacity: row.capacity)
        #expect(
            [machine.limit(for: .critical), machine.limit(for: .high), machine.limit(for: .medium), machine.limit(for: .low)]
                == [row.critical, row.high, row.medium, row.low])
    }

    @Test func aReturnedConnectionIsReusedBeforeAnotherIsOpened() {
        var machine = Machine(capacity: 4)
        Self.connect(&machine, .low)
        #expect(machine.release("a", priority: .low, reusable: true).isEmpty)
        guard case .use(let connection) = machine.lease(.low) else {
            Issue.record("the idle connection was not reused")
            return
        }
        #expect(connection == "a")
        #expect(machine.openCount == 1)
    }

    @Test func bulkFillsAllButTheReservedConnectionAndACriticalEmailTakesThatOneAtOnce() {
        var machine = Machine(capacity: 4)
        for _ in 0..<3 { Self.connect(&machine, .low) }
        // A fourth bulk lease waits although a slot is free: that slot is the critical lane's.
        let bulk = Self.park(&machine, .medium)
        #expect(machine.openCount == 3)
        Self.connect(&machine, .critical)
        #expect(machine.openCount == 4)
        // Given back, the critical connection stays idle for the next critical email instead of going to bulk.
        #expect(machine.release("critical", priority: .critical, reusable: true).isEmpty)
        #expect(machine.idle == ["critical"])
        guard case .use("critical") = machine.lease(.high) else {
            Issue.record("a high lease did not get the idle reserved connection")
            return
        }
        // When bulk gives a connection back, the parked bulk lease gets it.
        #expect(Self.takenBy(machine.release("bulk-1", priority: .low, reusable: true)) == bulk)
    }

    @Test func waitersAreServedCriticalThenHighThenTheRestFirstComeFirstServedWithinEach() {
        var machine = Machine(capacity: 1)
        Self.connect(&machine, .low)
        let low1 = Self.park(&machine, .low)
        let medium = Self.park(&machine, .medium)
        let high1 = Self.park(&machine, .high)
        let critical = Self.park(&machine, .critical)
        let low2 = Self.park(&machine, .low)
        let high2 = Self.park(&machine, .high)
        #expect(machine.mostUrgentWaiting == .critical)
        var served: [Machine.WaiterID?] = []
        var holder = Priority.low
        for next in [Priority.critical, .high, .high, .low, .medium, .low] {
            served.append(Self.takenBy(machine.release("only", priority: holder, reusable: true)))
            holder = next
        }
        // Medium and low are one class: among them, arrival order decides.
        #expect(served == [critical, high1, high2, low1, medium, low2])
        #expect(machine.waiters.isEmpty && machine.mostUrgentWaiting == nil)
    }

    @Test func theMostUrgentWaiterIsPublishedSoABulkLeaseGivesItsConnectionBack() {
        var machine = Machine(capacity: 2)
        Self.connect(&machine, .low)
        Self.connect(&machine, .high)
        #expect(machine.mostUrgentWaiting == nil)
        _ = Self.park(&machine, .low)
        #expect(machine.mostUrgentWaiting == .bulk)
        let critical = Self.park(&machine, .critical)
        #expect(machine.mostUrgentWaiting == .critical)
        // The bulk lease notices between two transactions and gives its connection back: the critical one gets it.
        #expect(Self.takenBy(machine.release("bulk", priority: .low, reusable: true)) == critical)
        #expect(machine.mostUrgentWaiting == .bulk)
    }

    @Test func aNewBulkLeaseQueuesBehindParkedOnesEvenWhenTheReservedConnectionIsIdle() {
        var machine = Machine(capacity: 2)
        Self.connect(&machine, .low)
        Self.connect(&machine, .critical)
        let first = Self.park(&machine, .low)
        #expect(machine.release("critical", priority: .critical, reusable: true).isEmpty)
        let second = Self.park(&machine, .low)
        #expect(first != second)
        #expect(Self.takenBy(machine.release("bulk", priority: .low, reusable: true)) == first)
        #expect(machine.waiters.map(\.id) == [second].compactMap { $0 })
    }

    @Test func aBrokenConnectionFreesItsSlotForTheNextWaiterToOpenOne() {
        var machine = Machine(capacity: 1)
        Self.connect(&machine, .low)
        let waiter = Self.park(&machine, .critical)
        let handovers = machine.release("broken", priority: .low, reusable: false)
        guard handovers.count == 1, case .connect(let id) = handovers[0] else {
            Issue.record("expected the waiter to open a connection, got \(handovers)")
            return
        }
        #expect(id == waiter)
        #expect(machine.openCount == 1 && machine.idle.isEmpty)
    }

    @Test func aFailedConnectGivesItsSlotToTheNextWaiter() {
        var machine = Machine(capacity: 1)
        Self.connect(&machine, .high)
        let waiter = Self.park(&machine, .high)
        let handovers = machine.connectFailed(priority: .high)
        guard handovers.count == 1, case .connect(let id) = handovers[0] else {
            Issue.record("expected the waiter to try to connect, got \(handovers)")
            return
        }
        #expect(id == waiter)
        #expect(machine.openCount == 1)
        #expect(machine.connectFailed(priority: .high).isEmpty)
        #expect(machine.openCount == 0 && machine.leases(at: .high) == 0)
    }

    @Test func closingExpiredIdleConnectionsFreesTheirSlots() {
        var machine = Machine(capacity: 3)
        Self.connect(&machine, .low)
        Self.connect(&machine, .low)
        _ = machine.release("old", priority: .low, reusable: true)
        _ = machine.release("fresh", priority: .low, reusable: true)
        let (removed, handovers) = machine.removeIdle { $0 == "old" }
        #expect(removed == ["old"] && handovers.isEmpty)
        #expect(machine.idle == ["fresh"] && machine.openCount == 1)
    }

    @Test func shutDownFailsEveryWaiterClosesIdleConnectionsAndRefusesNewLeases() {
        var machine = Machine(capacity: 2)
        Self.connect(&machine, .low)
        Self.connect(&machine, .critical)
        _ = machine.release("idle", priority: .critical, reusable: true)
        let waiter = Self.park(&machine, .low)
        let (idle, waiters) = machine.shutDown()
        #expect(idle == ["idle"] && waiters == [waiter].compactMap { $0 })
        guard case .fail = machine.lease(.critical) else {
            Issue.record("a lease after shutdown was not refused")
            return
        }
        // A leased connection given back after shutdown is closed, not kept.
        #expect(machine.release("leased", priority: .low, reusable: true).isEmpty)
        #expect(machine.idle.isEmpty && machine.openCount == 0)
    }
}
