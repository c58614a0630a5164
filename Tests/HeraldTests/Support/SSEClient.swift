import AsyncHTTPClient
import Foundation
import Herald
import NIOCore
import Synchronization

/// One Server-Sent Event as a client sees it.
struct SSEEvent: Sendable {
    var id: String?
    var event: String
    var data: String
    var json: JSONValue? { try? JSONValue.parse(data) }
}

/// A real HTTP client reading a `text/event-stream` over a socket, parsed per the WHATWG rules that
/// matter here (id, event, data, comments, blank line ends an event). Events collect in `received`
/// with the moment each arrived; `next` hands them out in order.
final class SSEClient: Sendable {
    final class State: Sendable {
        let received = Mutex<[(event: SSEEvent, at: Date)]>([])
        let status: Mutex<Int?> = Mutex(nil)
        let contentType: Mutex<String?> = Mutex(nil)
        let heartbeats = Atomic<Int>(0)
    }

    private let state = State()
    private let cursor = Mutex(0)
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    var statusCode: Int? { state.status.withLock { $0 } }
    var contentType: String? { state.contentType.withLock { $0 } }
    var heartbeatCount: Int { state.heartbeats.load(ordering: .relaxed) }
    var received: [(event: SSEEvent, at: Date)] { state.received.withLock { $0 } }

    init(url: String, headers: [(String, String)] = []) {
        let state = self.state
        let task = Task {
            var request = HTTPClientRequest(url: url)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
                state.status.withLock { $0 = Int(response.status.code) }
                state.contentType.withLock { $0 = response.headers.first(name: "Content-Type") }
                var pending = ""
                var event = SSEEvent(id: nil, event: "message", data: "")
                var hasData = false
                for try await buffer in response.body {
                    pending += String(buffer: buffer)
                    while let newline = pending.firstIndex(of: "\n") {
                        let line = String(pending[..<newline])
                        pending = String(pending[pending.index(after: newline)...])
                        if line.isEmpty {
                            if hasData { state.received.withLock { $0.append((event, Date())) } }
                            event = SSEEvent(id: nil, event: "message", data: "")
                            hasData = false
                        } else if line.hasPrefix(":") {
                            state.heartbeats.add(1, ordering: .relaxed)
                        } else if line.hasPrefix("id: ") {
                            event.id = String(line.dropFirst(4))
                        } else if line.hasPrefix("event: ") {
                            event.event = String(line.dropFirst(7))
                        } else if line.hasPrefix("data: ") {
                            event.data += (hasData ? "\n" : "") + line.dropFirst(6)
                            hasData = true
                        }
                    }
                }
            } catch {}
        }
        self.task.withLock { $0 = task }
    }

    /// The next event (matching `predicate`) after the last one handed out, or nil if none arrives
    /// within `timeout` seconds.
    func next(timeout: Double = 5, where predicate: (SSEEvent) -> Bool = { _ in true }) async -> SSEEvent? {
        await nextTimed(timeout: timeout, where: predicate)?.event
    }

    func nextTimed(timeout: Double = 5, where predicate: (SSEEvent) -> Bool = { _ in true }) async -> (event: SSEEvent, at: Date)? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let start = cursor.withLock { $0 }
            let events = Array(received.dropFirst(start))
            if let offset = events.firstIndex(where: { predicate($0.event) }) {
                cursor.withLock { $0 = start + offset + 1 }
                return events[offset]
            }
            if Date() >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    func close() {
        task.withLock { $0?.cancel() }
    }

    deinit { task.withLock { $0?.cancel() } }
}
