import Foundation
import PostgresNIO

extension PostgresStore {
    public var isShared: Bool { true }

    /// One notification: who sent it (so a node ignores its own) and what it says.
    private struct Envelope: Codable {
        var origin: String
        var signal: ClusterSignal

        enum CodingKeys: String, CodingKey {
            case origin = "o"
            case signal = "s"
        }
    }

    /// The NOTIFY channel, one per schema so that separate Herald installations in one database never hear each other.
    var signalChannel: String {
        String(("herald_signals" + (configuration.schema.map { "_" + $0 } ?? "")).prefix(63))
    }

    public func broadcast(_ signal: ClusterSignal) async throws {
        try await read { connection in
            for piece in signal.pieces() {
                let payload = String(decoding: JSONCoding.encode(Envelope(origin: origin, signal: piece)), as: UTF8.self)
                try await connection.run("SELECT pg_notify(\(signalChannel), \(payload))", logger)
            }
        }
    }

    public func listen(_ receive: @escaping @Sendable (ClusterSignal) async -> Void) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try configuration.connectionConfiguration(), id: Int.random(in: 1_000...1_000_000), logger: logger)
        do {
            try await connection.listen(on: signalChannel) { notifications in
                for try await notification in notifications {
                    guard let envelope = try? JSONCoding.decoder.decode(Envelope.self, from: Data(notification.payload.utf8)),
                        envelope.origin != origin
                    else { continue }
                    await receive(envelope.signal)
                }
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }
}
