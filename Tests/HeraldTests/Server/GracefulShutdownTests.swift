import Foundation
import Herald
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Testing

@Suite("Graceful shutdown", .timeLimit(.minutes(1)), .dropsPostgresSchemas)
struct GracefulShutdownTests {
    @Test("every background service ends a graceful shutdown by returning, not by throwing", arguments: StoreBackend.available)
    func servicesReturnOnGracefulShutdown(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let group = ServiceGroup(
            configuration: .init(services: try await engine.services(), logger: Logger(label: "herald-test")))
        let running = Task { try await group.run() }
        try await Task.sleep(for: .milliseconds(300))
        await group.triggerGracefulShutdown()
        // A service that throws here makes ServiceGroup cancel the others mid-shutdown (a dispatcher
        // finishing its batch among them), and the group reports the error.
        try await running.value
    }

    @Test("a connection that never sends a request does not hold up the server's graceful shutdown")
    func silentConnectionDoesNotHoldUpShutdown() async throws {
        let engine = try await TestEngine.make(on: .sqlite)
        let silent = Mutex<(any Channel)?>(nil)
        let clock = ContinuousClock()
        let bodyEnded = Mutex<ContinuousClock.Instant?>(nil)
        // Should the server never close it, the watchdog does, so that a failure is reported, not a hang.
        let watchdog = Task {
            try? await Task.sleep(for: .seconds(30))
            try? await silent.withLock { $0 }?.close()
        }
        defer { watchdog.cancel() }
        try await engine.withLiveServer { port in
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            silent.withLock { $0 = channel }
            try await Task.sleep(for: .milliseconds(100))
            bodyEnded.withLock { $0 = clock.now }
        }
        let shutdown = clock.now - (try #require(bodyEnded.withLock { $0 }))
        // Well under the watchdog's 30 s, with room for a machine busy with other suites (a shutdown there took 6.8 s).
        #expect(shutdown < .seconds(15), "shutdown took \(shutdown)")
        // The server closed the connection (the watchdog would only have done so after 30 s).
        try await #require(silent.withLock { $0 }).closeFuture.get()
        #expect(clock.now - (try #require(bodyEnded.withLock { $0 })) < .seconds(15))
    }
}
