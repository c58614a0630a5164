import Herald
import NIOCore

/// The `text/event-stream` framing of inbox updates (WHATWG HTML, "Server-sent events").
enum ServerSentEvent {
    /// Tells the browser how long to wait before reconnecting after a dropped stream.
    static let preamble = ByteBuffer(string: "retry: 2000\n\n")

    /// `id` is the connection's position, so a reconnecting `EventSource` sends it back as
    /// `Last-Event-ID` and resumes exactly; `event` is the update's type; `data` its JSON (one line).
    /// A heartbeat is a comment line, which every client ignores.
    static func encode(_ update: InboxUpdate) -> ByteBuffer {
        if update.kind == .heartbeat { return ByteBuffer(string: ": heartbeat\n\n") }
        var buffer = ByteBuffer()
        buffer.writeString("id: \(update.position)\nevent: \(update.kind.rawValue)\ndata: ")
        buffer.writeBytes(JSONCoding.encode(update))
        buffer.writeString("\n\n")
        return buffer
    }
}
