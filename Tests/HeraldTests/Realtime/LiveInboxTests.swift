import AsyncHTTPClient
import Foundation
import Herald
import HeraldServer
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import Testing

@Suite("Live inbox: Server-Sent Events and WebSocket", .timeLimit(.minutes(2)), .dropsPostgresSchemas)
struct LiveInboxTests {
    @Test(
        "SSE: counts first, then each new message with the new counts; read-all pushes counts equal to GET /v1/inbox/count",
        arguments: StoreBackend.available)
    func sseStream(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend) { $0.inboxHeartbeatSeconds = 0.3 }
        let (tenant, ids) = try await engine.tenantWithSubscribers(2)
        let (token, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: ids[0])
        try await engine.withLiveServer { port in
            let stream = SSEClient(url: "http://localhost:\(port)/v1/inbox/stream?token=\(token)")
            defer { stream.close() }
            let first = try #require(await stream.next())
            #expect(stream.statusCode == 200)
            #expect(stream.contentType?.hasPrefix("text/event-stream") == true)
            #expect(first.event == "inbox.counts")
            #expect(first.json?["counts"]?["unread"] == 0)

            try await engine.announce("Lift out of order", to: [ids[0]], tenantID: tenant.id)
            try await engine.announce("Not yours", to: [ids[1]], tenantID: tenant.id)
            try await engine.announce("Gym reopened", to: [ids[0]], tenantID: tenant.id)
            let one = try #require(await stream.next { $0.event == "message.created" })
            let two = try #require(await stream.next { $0.event == "message.created" })
            // Two lanes deliver, so either may land first; the last push carries the newest counts.
            let titles2 = Set([one, two].compactMap { $0.json?["message"]?["title"]?.stringValue })
            #expect(titles2.contains { $0.contains("Lift out of order") } && titles2.contains { $0.contains("Gym reopened") })
            #expect(two.json?["counts"]?["unread"] == 2)
            #expect(one.id != nil && one.id != two.id)

            _ = try await engine.markAllRead(claims)
            let readAll = try #require(await stream.next { $0.event == "inbox.read_all" })
            let counts = try await engine.inboxCounts(claims)
            #expect(counts.unread == 0)
            #expect(readAll.json?["counts"]?["unread"] == .number(Double(counts.unread)))
            #expect(readAll.json?["counts"]?["total"] == .number(Double(counts.total)))
            // Only the subscriber's own messages ever arrived, and heartbeats keep an idle stream alive.
            let titles = stream.received.compactMap { $0.event.json?["message"]?["title"]?.stringValue }
            #expect(!titles.contains { $0.contains("Not yours") })
            #expect(try await engine.eventually(timeout: 3) { stream.heartbeatCount >= 1 })
        }
    }

    @Test("SSE: reconnecting with Last-Event-ID sends exactly what was delivered while away", arguments: StoreBackend.available)
    func resume(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        let (token, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: ids[0])
        try await engine.withLiveServer { port in
            let url = "http://localhost:\(port)/v1/inbox/stream"
            let first = SSEClient(url: url, headers: [("Authorization", "Bearer \(token)")])
            _ = try #require(await first.next { $0.event == "inbox.counts" })
            try await engine.announce("Before", to: ids, tenantID: tenant.id)
            let before = try #require(await first.next { $0.event == "message.created" })
            first.close()

            for title in ["Away 1", "Away 2", "Away 3"] { try await engine.announce(title, to: ids, tenantID: tenant.id) }
            #expect(try await engine.eventually { try await engine.inboxCounts(claims).total == 4 })

            let second = SSEClient(url: url, headers: [("Authorization", "Bearer \(token)"), ("Last-Event-ID", try #require(before.id))])
            defer { second.close() }
            var titles: [String] = []
            while let event = await second.next(timeout: 3, where: { $0.event == "message.created" }) {
                titles.append(event.json?["message"]?["title"]?.stringValue ?? "")
                if titles.count == 3 { break }
            }
            #expect(titles.map { $0.components(separatedBy: ":").first ?? $0 }.count == 3)
            #expect(titles.allSatisfy { $0.contains("Away") })
            #expect(await second.next(timeout: 0.5, where: { $0.event == "message.created" }) == nil)
            let counts = try #require(await second.next { $0.event == "inbox.counts" })
            #expect(counts.json?["counts"]?["total"] == 4)

            let bad = SSEClient(url: url, headers: [("Authorization", "Bearer \(token)"), ("Last-Event-ID", "not-an-id")])
            defer { bad.close() }
            #expect(try await engine.eventually(timeout: 3) { bad.statusCode == 422 })
        }
    }

    @Test("SSE and WebSocket refuse a missing or forged token with 401", arguments: StoreBackend.available)
    func authentication(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        try await engine.withLiveServer { port in
            let missing = SSEClient(url: "http://localhost:\(port)/v1/inbox/stream")
            let forged = SSEClient(url: "http://localhost:\(port)/v1/inbox/stream?token=st_forged")
            defer {
                missing.close()
                forged.close()
            }
            #expect(try await engine.eventually(timeout: 15) { missing.statusCode == 401 && forged.statusCode == 401 })
            await #expect(throws: (any Error).self) {
                try await WebSocketClient.connect(url: "ws://localhost:\(port)/v1/inbox/ws?token=st_forged", logger: Logger(label: "ws")) {
                    _, _, _ in
                }
            }
            var request = HTTPClientRequest(url: "http://localhost:\(port)/v1/inbox/ws")
            request.headers.add(name: "Authorization", value: "Bearer x")
            let plain = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            #expect(plain.status.code == 401 || plain.status.code == 426)
        }
    }

    @Test(
        "WebSocket: pushes new messages and counts; read and read_all commands round-trip; a bad command gets an error frame",
        arguments: StoreBackend.available)
    func webSocket(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(2)
        let (token, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: ids[0])
        try await engine.withLiveServer { port in
            let frames = Mutex<[JSONValue]>([])
            let messageID = Mutex<String?>(nil)
            try await WebSocketClient.connect(url: "ws://localhost:\(port)/v1/inbox/ws?token=\(token)", logger: Logger(label: "ws")) {
                inbound, outbound, _ in
                var iterator = inbound.messages(maxSize: 1 << 16).makeAsyncIterator()
                func next(_ type: String) async throws -> JSONValue? {
                    while let message = try await iterator.next() {
                        guard case .text(let text) = message, let json = try? JSONValue.parse(text) else { continue }
                        frames.withLock { $0.append(json) }
                        if json["type"]?.stringValue == type { return json }
                    }
                    return nil
                }
                _ = try await next("inbox.counts")
                try await engine.announce("Over the socket", to: [ids[0]], tenantID: tenant.id)
                try await engine.announce("Someone else's", to: [ids[1]], tenantID: tenant.id)
                let created = try #require(try await next("message.created"))
                let id = try #require(created["message"]?["id"]?.stringValue)
                messageID.withLock { $0 = id }
                try await outbound.write(.text(#"{"type":"read","message_id":"\#(id)"}"#))
                let read = try #require(try await next("message.read"))
                #expect(read["message_id"]?.stringValue == id)
                #expect(read["counts"]?["unread"] == 0)
                try await outbound.write(.text(#"{"type":"explode"}"#))
                let error = try #require(try await next("error"))
                #expect(error["status"] == 422)
                #expect(error["errors"]?.arrayFirst?["field"] == "type")
                try await engine.announce("Second", to: [ids[0]], tenantID: tenant.id)
                _ = try await next("message.created")
                try await outbound.write(.text(#"{"type":"read_all"}"#))
                let readAll = try #require(try await next("inbox.read_all"))
                #expect(readAll["counts"]?["unread"] == 0)
                try await outbound.close(.normalClosure, reason: nil)
            }
            #expect(messageID.withLock { $0 } != nil)
            #expect(try await engine.inboxCounts(claims).unread == 0)
            let titles = frames.withLock { $0.compactMap { $0["message"]?["title"]?.stringValue } }
            #expect(titles.count == 2)
            #expect(!titles.contains { $0.contains("Someone else") })
        }
    }

    @Test(
        "a connection that stops reading is closed when its buffer fills; the subscriber's other connection is not held up",
        arguments: StoreBackend.available)
    func slowClientIsDropped(_ backend: StoreBackend) async throws {
        let engine = try await TestEngine.make(on: backend)
        let (tenant, ids) = try await engine.tenantWithSubscribers(1)
        let (_, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: ids[0])
        try await engine.whileRunning {
            // Never read: its buffer fills.
            let stalled = try await engine.inboxUpdates(claims, lastEventID: nil)
            let live = try await engine.inboxUpdates(claims, lastEventID: nil)
            let received = Atomic<Int>(0)
            let reader = Task {
                for await update in live where update.kind == .created { received.add(1, ordering: .relaxed) }
            }
            defer { reader.cancel() }
            let total = engine.inboxHub.bufferLimit + 50
            for start in stride(from: 0, to: total, by: 100) {
                let triggers = (start..<min(start + 100, total)).map {
                    Trigger(type: "announcement_posted", recipients: [.subscriber(ids[0])], payload: ["title": .string("n\($0)"), "excerpt": "x"])
                }
                _ = try await engine.triggerBulk(triggers, tenantID: tenant.id)
            }
            #expect(try await engine.eventually(timeout: 30) { received.load(ordering: .relaxed) == total })
            let dropped = try await engine.eventually(timeout: 10) { engine.inboxHub.connectionCount == 1 }
            #expect(dropped, "the stalled connection is closed")
            // Only a closed stream ends; iterating one that was not closed would wait forever.
            guard dropped else { return }
            var stalledCount = 0
            for await _ in stalled { stalledCount += 1 }
            #expect(stalledCount == engine.inboxHub.bufferLimit, "the stalled stream ends after its buffer, instead of growing")
        }
    }
}
