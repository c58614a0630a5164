import AsyncHTTPClient
import Herald
import NIOCore

extension BenchRunner {
    /// Triggers one `emergency_alert` for the watcher over the HTTP API, as an app would, and answers its event id;
    /// the critical workloads time each alert from just before this call.
    static func triggerAlert(number: Int, client: HTTPClient, baseURL: String, key: String) async throws -> String {
        var request = HTTPClientRequest(url: "\(baseURL)/v1/events")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        let body: JSONValue = [
            "type": "emergency_alert", "recipients": ["watcher"],
            "payload": ["title": .string("Alert #\(number)"), "message": "Leave the building by the nearest exit."],
        ]
        request.body = .bytes(ByteBuffer(string: body.jsonText()))
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status.code == 202, let eventID = (try? JSONValue.parse(text))?["event_id"]?.stringValue else {
            throw BenchError("emergency_alert answered \(response.status.code): \(text.prefix(300))")
        }
        return eventID
    }
}
