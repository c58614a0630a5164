import Crypto
import Foundation
import Synchronization

/// The provider token (a JWT) that authenticates every request to APNs, made once and reused.
///
/// Apple refuses a token older than an hour (`ExpiredProviderToken`) and throttles a provider that changes its token
/// more often than every 20 minutes (`TooManyProviderTokenUpdates`), so one token serves every request, on every
/// connection, until it is ``renewalAge`` old: 10,000 pushes in a burst carry the same token. Signing takes
/// microseconds, so the cache sits behind a lock rather than an actor: no request waits for a hop.
///
/// The token is ES256 (`{"alg": "ES256", "kid": <Key ID>}` / `{"iss": <Team ID>, "iat": <now>}`), signed with the
/// `.p8` key; ES256 signatures are the raw 64-byte `r || s`, not DER.
public final class APNsTokenProvider: Sendable {
    /// Seconds a token is used before a new one is made: well inside Apple's hour, well past its 20 minutes.
    public static let renewalAge: Double = 50 * 60

    public let keyID: String
    public let teamID: String
    private let key: P256.Signing.PrivateKey
    private let now: @Sendable () -> Date
    private let cached = Mutex<Token?>(nil)

    private struct Token {
        var text: String
        var issuedAt: Date
    }

    /// Throws when the credentials' private key cannot be read (``APNsCredentials/problems(prefix:)`` says so
    /// first, when settings are saved). `now` is the clock, for tests.
    public init(credentials: APNsCredentials, now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.keyID = credentials.keyID
        self.teamID = credentials.teamID
        self.key = try credentials.signingKey()
        self.now = now
    }

    /// The current token, made now when there is none or it is ``renewalAge`` old.
    public func token() throws -> String {
        try cached.withLock { cached in
            let now = now()
            if let token = cached, now.timeIntervalSince(token.issuedAt) < Self.renewalAge, token.issuedAt <= now { return token.text }
            let token = try make(at: now)
            cached = token
            return token.text
        }
    }

    /// A new token in place of `stale`, which APNs refused (`ExpiredProviderToken`, `InvalidProviderToken`). When
    /// another request already replaced it, that replacement is returned: a hundred requests refused at once
    /// renew the token once, not a hundred times (which Apple would throttle).
    public func renew(replacing stale: String) throws -> String {
        try cached.withLock { cached in
            if let token = cached, token.text != stale { return token.text }
            let token = try make(at: now())
            cached = token
            return token.text
        }
    }

    private func make(at date: Date) throws -> Token {
        let issuedAt = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
        let text = try JSONWebToken.make(
            header: ["alg": "ES256", "kid": keyID],
            claims: ["iss": .string(teamID), "iat": .number(issuedAt.timeIntervalSince1970)]
        ) { input in
            Array(try key.signature(for: input).rawRepresentation)
        }
        return Token(text: text, issuedAt: issuedAt)
    }
}
