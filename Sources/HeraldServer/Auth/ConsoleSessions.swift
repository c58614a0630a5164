import Foundation
import Herald
import Logging

/// Sessions of the admin console (`/console`): an operator signs in once with a tenant API key, and the browser then
/// holds only a random session id in an HTTP-only cookie (``ConsoleCookie``). The store keeps the id's hash, so
/// sessions survive a restart and are shared by every node, and a session ends when its key is revoked.
///
/// An HTTP concern (a cookie's session), so it lives with the server, not in the engine; the engine's store only
/// keeps the rows.
struct ConsoleSessions: Sendable {
    /// How long a console session lasts from sign-in.
    static let lifetimeSeconds = 12 * 3600

    let store: any Store
    let logger: Logger

    init(engine: HeraldEngine) {
        self.store = engine.store
        self.logger = engine.logger
    }

    /// Signs in with a tenant API key: the session id for the cookie and the session, or nil when the key is unknown
    /// or revoked.
    func open(apiKey: String) async throws -> (id: String, session: ConsoleSession)? {
        let apiKey = apiKey.trimmingCharacters(in: .whitespacesAndNewlines)
        guard apiKey.hasPrefix(APIKeys.prefix) else { return nil }
        let id = Identifier.secret(bytes: 32)
        let now = Date()
        guard
            let session = try await store.createConsoleSession(
                apiKeyHash: APIKeys.hash(apiKey), idHash: APIKeys.hash(id), csrfToken: Identifier.secret(bytes: 32), now: now,
                expiresAt: now.addingTimeInterval(TimeInterval(Self.lifetimeSeconds)))
        else { return nil }
        logger.info("console sign-in", metadata: ["tenant": "\(session.tenant.id)", "key": "\(session.apiKeyPrefix)"])
        return (id, session)
    }

    /// The live session a cookie names, or nil.
    func session(id: String) async throws -> ConsoleSession? {
        guard !id.isEmpty, id.count <= 128 else { return nil }
        return try await store.consoleSession(idHash: APIKeys.hash(id), now: Date())
    }

    func close(id: String) async throws {
        try await store.deleteConsoleSession(idHash: APIKeys.hash(id))
    }
}
