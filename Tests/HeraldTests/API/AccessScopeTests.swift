import AsyncHTTPClient
import Foundation
import Herald
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import Testing

@testable import HeraldServer

/// A credential a test call carries: one of every kind, or none.
enum TestCredential: Sendable, Hashable, CaseIterable, CustomTestStringConvertible {
    case none
    case kind(CredentialKind)

    static let allCases: [TestCredential] = [.none] + CredentialKind.allCases.map(TestCredential.kind)
    var testDescription: String {
        switch self {
        case .none: "no credential"
        case .kind(let kind): kind.rawValue
        }
    }
    var scopes: AccessScope {
        switch self {
        case .none: []
        case .kind(let kind): kind.scopes
        }
    }
}

/// One tenant with one subscriber, and a live credential of every kind for them.
struct AccessFixture: Sendable {
    var engine: HeraldEngine
    var tenant: Tenant
    var subscriberID = "resident"
    var secrets: [CredentialKind: String] = [:]

    static func make(_ engine: HeraldEngine) async throws -> AccessFixture {
        let (tenant, key) = try await engine.createTenant(name: "Access")
        var fixture = AccessFixture(engine: engine, tenant: tenant)
        _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: fixture.subscriberID, email: "r@example.com"))
        let link = engine.preferencesURL(tenantID: tenant.id, subscriberID: fixture.subscriberID)
        let unsubscribe = engine.unsubscribeURL(tenantID: tenant.id, subscriberID: fixture.subscriberID, eventType: "announcement_posted")
        fixture.secrets = [
            .operatorKey: try #require(engine.configuration.adminKey),
            .tenantKey: key.key,
            .subscriberToken: try await engine.issueSubscriberToken(tenantID: tenant.id, subscriberID: fixture.subscriberID).token,
            .preferencesToken: try await engine.openPreferenceLink(Self.token(in: link)).token,
            .preferenceLinkToken: Self.token(in: link),
            .unsubscribeToken: Self.token(in: unsubscribe),
        ]
        return fixture
    }

    static func token(in link: String) -> String {
        URLComponents(string: link)?.queryItems?.first { $0.name == "token" }?.value ?? ""
    }

    /// The headers and query that carry `credential` to a route of `requirement`: link tokens (and every other
    /// token, to show they are not links) in `?token=` for link routes, a bearer header otherwise; a fresh
    /// console session (sign-out ends one) with its CSRF token.
    func carry(_ credential: TestCredential, to requirement: AccessRequirement) async throws -> (headers: [(String, String)], query: String?) {
        guard case .kind(let kind) = credential else { return ([], nil) }
        if kind == .consoleSession {
            let key = try #require(secrets[.tenantKey])
            let (id, session) = try #require(try await ConsoleSessions(engine: engine).open(apiKey: key))
            return ([("Cookie", "\(ConsoleCookie.plainName)=\(id)"), ("X-CSRF-Token", session.csrfToken)], nil)
        }
        let secret = try #require(secrets[kind])
        if case .link = requirement { return ([], "token=" + (secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")) }
        return ([("Authorization", "Bearer \(secret)")], nil)
    }
}

@Suite("Token scopes: every route, stream and WebSocket command with every kind of credential", .timeLimit(.minutes(3)))
struct AccessScopeTests {
    static func engine() async throws -> HeraldEngine {
        try await TestEngine.make { configuration in
            // The table sends one token a hundred requests in a row; the request limit is not what it tests.
            configuration.requestLimits.subscriberPerSecond = 100_000
            configuration.requestLimits.subscriberBurst = 100_000
        }
    }

    @Test("every route the router serves is registered under a declared access requirement")
    func everyRouteIsDeclared() async throws {
        let access = HeraldServer.routeAccess(engine: try await Self.engine())
        let undeclared = Set(access.routes()).subtracting(access.declared.keys)
        #expect(undeclared.map(\.description).sorted() == [], "routes registered outside RouteAccess.declare")
        #expect(access.declared.count > 70)
        // The declarations that matter most, pinned so a change to them is a visible decision.
        let pinned: [(HTTPRequest.Method, String, AccessRequirement)] = [
            (.get, "/v1/inbox", .credential(.inboxRead)), (.get, "/v1/inbox/stream", .credential(.inboxRead)),
            (.post, "/v1/inbox/read-all", .credential(.inboxWrite)), (.put, "/v1/inbox/preferences", .credential(.preferences)),
            (.post, "/v1/tenants", .credential(.operator)), (.post, "/v1/subscribers/{id}/token", .credential(.tenantAPI)),
            (.post, "/console/preview", .credential(.console)), (.post, "/unsubscribe", .link(.unsubscribe)),
            (.get, "/preferences", .link(.preferenceLink)), (.get, "/healthz", .open),
        ]
        for (method, path, requirement) in pinned {
            #expect(access.declared[RouteAccess.Route(method: method, path: path)] == requirement, "\(method) \(path)")
        }
        #expect(InboxWebSocketRoutes.upgradeNeeds == .inboxRead)
        #expect(InboxWebSocketRoutes.Command.allCases.allSatisfy { $0.needs == .inboxWrite })
    }

    @Test("each route answers each credential as declared: allowed when its kind grants the scope, else 401 (none) or 403", arguments: TestCredential.allCases)
    func everyRoute(_ credential: TestCredential) async throws {
        let engine = try await Self.engine()
        let declared = HeraldServer.routeAccess(engine: engine).declared
        try await engine.withLiveServer { port in
            let fixture = try await AccessFixture.make(engine)
            for (route, requirement) in declared.sorted(by: { $0.key.description < $1.key.description }) {
                let path = route.path.replacingOccurrences(of: #"\{[^}]+\}"#, with: "zz", options: .regularExpression)
                let (headers, query) = try await fixture.carry(credential, to: requirement)
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)" + (query.map { "?" + $0 } ?? ""))
                request.method = .init(rawValue: route.method.rawValue)
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                // A stream route that lets the caller in answers 422 for a bad resume point instead of streaming for ever.
                request.headers.add(name: "Last-Event-ID", value: "not-an-id")
                if route.method == .options { request.headers.add(name: "Origin", value: "https://app.example") }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
                let status = Int(response.status.code)
                // Every route's answer to every kind of credential is held to the OpenAPI document too.
                OpenAPIConformance.check(
                    .init(
                        method: route.method.rawValue, target: path + (query.map { "?" + $0 } ?? ""), requestContentType: nil, requestBody: nil,
                        status: status, responseContentType: response.headers.first(name: "Content-Type"), responseBody: body),
                    sourceLocation: #_sourceLocation)
                let grants = credential.scopes.isSuperset(of: requirement.scope)
                #expect(status < 500, "\(route) with \(credential.testDescription): \(status) \(body)")
                switch requirement {
                case .open:
                    #expect(status != 401 && status != 403, "\(route) is open, yet \(credential.testDescription) got \(status)")
                case .link:
                    #expect(grants ? status == 200 : status == 400, "\(route) with \(credential.testDescription): \(status)")
                case .credential:
                    if credential == .none {
                        #expect(status == 401, "\(route) without a credential: \(status) \(body)")
                    } else if grants {
                        #expect(status != 401 && status != 403, "\(route) refused \(credential.testDescription): \(status) \(body)")
                    } else {
                        #expect(status == 403, "\(route) let \(credential.testDescription) in: \(status) \(body)")
                        #expect(body.contains("insufficient-scope") && body.contains("may do"), "\(route): \(body)")
                    }
                }
            }
        }
    }

    @Test("the WebSocket upgrades only for a credential granting inbox read; the others are refused at the handshake, and told 401 or 403", arguments: TestCredential.allCases)
    func webSocketUpgrade(_ credential: TestCredential) async throws {
        let engine = try await Self.engine()
        try await engine.withLiveServer { port in
            let fixture = try await AccessFixture.make(engine)
            let (headers, _) = try await fixture.carry(credential, to: .credential(InboxWebSocketRoutes.upgradeNeeds))
            if credential.scopes.isSuperset(of: InboxWebSocketRoutes.upgradeNeeds) {
                var fields = HTTPFields()
                for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
                let first = Mutex<String?>(nil)
                try await WebSocketClient.connect(
                    url: "ws://127.0.0.1:\(port)/v1/inbox/ws", configuration: .init(additionalHeaders: fields), logger: Logger(label: "ws")
                ) { inbound, outbound, _ in
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        if case .text(let text) = message { first.withLock { $0 = text } }
                        break
                    }
                    try await outbound.close(.normalClosure, reason: nil)
                }
                #expect(first.withLock { $0 }?.contains("inbox.counts") == true)
                return
            }
            // Refused at the handshake: Hummingbird answers a refused upgrade with an empty 400 and closes, so
            // nothing is replayed and no command is taken.
            var upgrade = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/inbox/ws")
            for (name, value) in headers + Self.upgradeHeaders { upgrade.headers.add(name: name, value: value) }
            let refused = try await HTTPClient.shared.execute(upgrade, timeout: .seconds(10))
            #expect(refused.status.code == 400, "\(credential.testDescription): \(refused.status)")
            #expect(try await refused.body.collect(upTo: 1 << 16).readableBytes == 0)
            // The same URL without Upgrade passes the same check and says why: 401 or 403.
            var plain = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/inbox/ws")
            for (name, value) in headers { plain.headers.add(name: name, value: value) }
            let response = try await HTTPClient.shared.execute(plain, timeout: .seconds(10))
            let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
            #expect(Int(response.status.code) == (credential == .none ? 401 : 403), "\(credential.testDescription): \(response.status) \(body)")
        }
    }

    static let upgradeHeaders = [
        ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ]

    @Test("each WebSocket command is checked like a route: allowed when the connection's kind grants its scope", arguments: TestCredential.allCases)
    func webSocketCommands(_ credential: TestCredential) async throws {
        guard case .kind(let kind) = credential else { return }
        let engine = try await Self.engine()
        try await engine.whileRunning {
            let fixture = try await AccessFixture.make(engine)
            let token = try #require(fixture.secrets[kind == .preferencesToken ? .preferencesToken : .subscriberToken])
            let claims = try #require(engine.verifySubscriberToken(token))
            let principal = Principal(kind: kind, tenant: fixture.tenant, subscriber: claims)
            for command in InboxWebSocketRoutes.Command.allCases {
                let refusal: Int?
                do {
                    try await Authenticator(engine: engine).authorize(principal, needs: command.needs)
                    refusal = nil
                } catch {
                    refusal = ProblemDetails.from(error).status
                }
                #expect(refusal == (kind.scopes.isSuperset(of: command.needs) ? nil : 403), "\(command) with a \(kind)")
            }
        }
    }
}
