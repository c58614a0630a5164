import Crypto
import Foundation
import _CryptoExtras

/// OAuth 2.0 access tokens for FCM HTTP v1, got the way Google's libraries get them for a service account (RFC 7523,
/// JWT bearer grant): an RS256 assertion `{"iss": client_email, "scope": ".../auth/firebase.messaging", "aud":
/// token_uri, "iat", "exp": iat + 3600}` signed with the account's key (PKCS#1 v1.5, SHA-256), posted form-encoded
/// to `token_uri`, answered with `{"access_token", "expires_in", "token_type": "Bearer"}`.
///
/// A token lives an hour; it is reused until five minutes before it runs out, by every send. The exchange is a
/// network round trip, so it is an actor's: concurrent callers that find no usable token wait for the one exchange
/// in flight rather than each starting their own. ``invalidate(_:)`` drops a token FCM refused (401) so the next
/// caller gets a fresh one, once, however many sends saw the refusal.
public actor FCMTokenProvider {
    /// Why no token could be had.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// Worth trying again: no answer, 429 or 5xx from the token endpoint.
        case transient(String, retryAfter: Double?)
        /// The credentials were refused (`invalid_grant`, an unknown account, a revoked key) or cannot sign.
        case permanent(String)

        public var description: String {
            switch self {
            case .transient(let reason, _), .permanent(let reason): reason
            }
        }
    }

    public static let scope = "https://www.googleapis.com/auth/firebase.messaging"
    static let grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// Seconds before its expiry that a token stops being handed out.
    public static let renewalMargin: Double = 5 * 60

    public nonisolated let account: FCMServiceAccount
    private let key: _RSA.Signing.PrivateKey
    private let http: OutboundHTTPClient
    private let now: @Sendable () -> Date
    private var current: AccessToken?
    private var pending: Task<Result<AccessToken, Failure>, Never>?
    /// How many exchanges were started, for logs and tests.
    public private(set) var exchanges = 0

    struct AccessToken: Sendable {
        var value: String
        /// When it stops being handed out: ``renewalMargin`` before Google's expiry (half its life when that is
        /// shorter than the margin).
        var renewAt: Date
    }

    /// Throws when the account's private key cannot be read (``FCMServiceAccount/problems(prefix:)`` says so
    /// first, when settings are saved). The token endpoint is reached through `http`, under its destination policy.
    public init(account: FCMServiceAccount, http: OutboundHTTPClient, now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.account = account
        self.key = try account.signingKey()
        self.http = http
        self.now = now
    }

    /// A token that has at least five minutes left, from the cache or from an exchange (joined if one is in flight).
    public func accessToken() async throws(Failure) -> String {
        if let current, now() < current.renewAt { return current.value }
        let task: Task<Result<AccessToken, Failure>, Never>
        if let pending {
            task = pending
        } else {
            exchanges += 1
            let exchange = Task { await self.exchange() }
            pending = exchange
            task = exchange
        }
        let result = await task.value
        if pending == task {
            pending = nil
            if case .success(let token) = result { current = token }
        }
        return try result.get().value
    }

    /// Forgets `token` when it is the current one (FCM answered 401 to it); a token already replaced is left alone.
    public func invalidate(_ token: String) {
        if current?.value == token { current = nil }
    }

    /// The signed assertion for an exchange at `date`.
    nonisolated func assertion(at date: Date) throws -> String {
        let issuedAt = date.timeIntervalSince1970.rounded(.down)
        return try JSONWebToken.make(
            header: ["alg": "RS256", "typ": "JWT", "kid": account.privateKeyID],
            claims: [
                "iss": .string(account.clientEmail), "scope": .string(Self.scope), "aud": .string(account.tokenURI),
                "iat": .number(issuedAt), "exp": .number(issuedAt + 3600),
            ]
        ) { input in
            Array(try key.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        }
    }

    private nonisolated func exchange() async -> Result<AccessToken, Failure> {
        let started = now()
        let signed: String
        do {
            signed = try assertion(at: started)
        } catch {
            return .failure(.permanent("cannot sign the OAuth assertion: \(error)"))
        }
        guard let url = URL(string: account.tokenURI) else { return .failure(.permanent("token_uri is not a URL")) }
        let form = TwilioProvider.formEncoded([("grant_type", Self.grantType), ("assertion", signed)])
        let headers = [("content-type", "application/x-www-form-urlencoded"), ("accept", "application/json")]
        switch await http.send(.POST, to: url, headers: headers, body: Array(form.utf8)) {
        case .failed(let reason):
            return .failure(.transient("the OAuth token endpoint did not answer: \(reason)", retryAfter: nil))
        case .refused(let reason):
            return .failure(.permanent("OAuth token endpoint not reached: \(reason)"))
        case .answered(let answer):
            return Self.accessToken(from: answer, obtainedAt: started)
        }
    }

    /// What the token endpoint's answer means: a token (cached until ``renewalMargin`` before `expires_in` runs
    /// out), a refusal of the credentials (4xx, Google's `error` and `error_description`), or a transient failure.
    static func accessToken(from answer: OutboundHTTPAnswer, obtainedAt: Date) -> Result<AccessToken, Failure> {
        let json = try? JSONValue.parse(answer.body)
        if (200..<300).contains(answer.status) {
            guard let token = json?["access_token"]?.stringValue, !token.isEmpty else {
                return .failure(.transient("the OAuth token endpoint answered \(answer.status) without an access_token", retryAfter: nil))
            }
            let lifetime = json?["expires_in"]?.doubleValue.flatMap { $0.isFinite && $0 > 0 ? min($0, 86_400) : nil } ?? 3600
            let usable = lifetime > 2 * renewalMargin ? lifetime - renewalMargin : lifetime / 2
            return .success(AccessToken(value: token, renewAt: obtainedAt.addingTimeInterval(usable)))
        }
        var reason = "OAuth token endpoint \(answer.status)"
        if let error = json?["error"]?.stringValue {
            reason += " \(error)"
            if let description = json?["error_description"]?.stringValue { reason += ": \(description)" }
        } else if !answer.body.isEmpty {
            reason = "OAuth token endpoint answered \(answer.summary)"
        }
        if answer.status == 429 || answer.status == 408 || answer.status >= 500 {
            return .failure(.transient(reason, retryAfter: answer.retryAfterSeconds))
        }
        return .failure(.permanent(reason))
    }
}
