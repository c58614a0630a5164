import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The email channel: composes each message (sender, layout, unsubscribe headers, MIME) and hands it to
/// the tenant's transport: its own SMTP server, the server's default SMTP server, or the outbox folder.
///
/// As a `Service` it closes idle SMTP connections and, on shutdown, says QUIT to every server.
public final class EmailChannel: DeliveryChannel, Service {
    public let kind = ChannelKind.email
    public let composer: EmailComposer
    let defaults: EmailDefaults
    let outbox: OutboxTransport
    let heloName: String
    /// Tenants' email settings, read through their family's short cache.
    let tenantSettings: TenantSettings<EmailSettings>
    /// The active suppression-list entries among a tenant's addresses; read once per tenant per batch.
    let suppressions: @Sendable (_ tenantID: String, _ addresses: [String]) async throws -> [String: Suppression]
    /// Guards the SMTP servers tenants name (never the server-wide ones, which are the operator's configuration).
    let destinationPolicy: DestinationPolicy
    /// The HTTP client for the provider APIs a tenant names, behind the destination policy.
    let http: OutboundHTTPClient
    /// The HTTP client for the operator's own provider APIs, which may be anywhere the operator says.
    let operatorHTTP: OutboundHTTPClient
    /// Each provider API's circuit breaker, shared with the other channels' providers (and their health answers).
    let circuits: CircuitBreakers
    let logger: Logger
    /// One pool per server, kept apart for a tenant's server and the operator's: a tenant that names the operator's
    /// relay still goes through the destination policy.
    private let pools = Mutex<[PoolKey: SMTPConnectionPool]>([:])

    public init(
        composer: EmailComposer, defaults: EmailDefaults, outboxDirectory: URL, heloName: String = ProcessInfo.processInfo.hostName,
        settings: TenantSettings<EmailSettings>,
        suppressions: @escaping @Sendable (_ tenantID: String, _ addresses: [String]) async throws -> [String: Suppression] = { _, _ in [:] },
        destinationPolicy: DestinationPolicy = DestinationPolicy(), http: OutboundHTTPClient? = nil,
        circuits: CircuitBreakers = CircuitBreakers(), logger: Logger
    ) {
        self.http = http ?? OutboundHTTPClient(policy: destinationPolicy)
        var operatorHTTP = self.http
        operatorHTTP.policy = DestinationPolicy(allowPrivateNetworks: true)
        self.operatorHTTP = operatorHTTP
        self.circuits = circuits
        self.composer = composer
        self.defaults = defaults
        self.outbox = OutboxTransport(directory: outboxDirectory)
        self.heloName = heloName.isEmpty ? "localhost" : heloName
        self.tenantSettings = settings
        self.suppressions = suppressions
        self.destinationPolicy = destinationPolicy
        self.logger = logger
    }

    public func deliver(_ batch: [OutgoingMessage]) async -> [ChannelResult] {
        var results = [ChannelResult?](repeating: nil, count: batch.count)
        var byRoute: [String: (route: EmailRoute, items: [(index: Int, email: OutboundEmail)])] = [:]
        let suppressed = await suppressedAddresses(in: batch)
        for (index, outgoing) in batch.enumerated() {
            do {
                let settings = try await settings(for: outgoing.message.tenantID)
                if let address = outgoing.message.subscriber.email, !settings.allowsRecipient(address) {
                    results[index] = .suppressed(.recipientNotAllowed, detail: "\(address) is outside the tenant's allowed recipient domains")
                    continue
                }
                switch suppressed[outgoing.message.tenantID] {
                case .failure(let error):
                    results[index] = .transientFailure("cannot read the suppression list: \(error)")
                    continue
                case .success(let entries):
                    if let address = outgoing.message.subscriber.email?.lowercased(), let entry = entries[address],
                        outgoing.message.priority != .critical || settings.sendCriticalToSuppressed != true
                    {
                        results[index] = .suppressed(entry.reason.messageReason, detail: entry.suppressionDetail)
                        continue
                    }
                case nil: break
                }
                let (_, email) = try composer.compose(outgoing, settings: settings)
                let route = try route(for: settings)
                byRoute[route.name, default: (route, [])].items.append((index, email))
            } catch {
                results[index] = .permanentFailure("cannot compose the email: \(error)")
            }
        }
        // Each route on its own: a critical email to one tenant's server never waits for another route's bulk.
        let sent = await withTaskGroup(of: ([(index: Int, email: OutboundEmail)], [EmailSendOutcome]).self) { tasks in
            for (_, group) in byRoute {
                tasks.addTask { (group.items, await self.send(group.items.map(\.email), via: group.route)) }
            }
            var sent: [([(index: Int, email: OutboundEmail)], [EmailSendOutcome])] = []
            for await routeOutcomes in tasks { sent.append(routeOutcomes) }
            return sent
        }
        for (items, outcomes) in sent {
            for (item, outcome) in zip(items, outcomes) {
                switch outcome {
                case .accepted(let detail): results[item.index] = .sent(detail: detail)
                case .transientFailure(let detail): results[item.index] = .transientFailure(detail)
                case .permanentFailure(let detail): results[item.index] = .permanentFailure(detail)
                case .deferred(let detail, let retryAfter): results[item.index] = .deferred(detail, retryAfter: retryAfter)
                }
            }
        }
        return results.map { $0 ?? .transientFailure("the email channel gave no result") }
    }

    /// Each tenant's suppression-list entries among the batch's addresses, one read per tenant.
    func suppressedAddresses(in batch: [OutgoingMessage]) async -> [String: Result<[String: Suppression], any Error>] {
        var addresses: [String: [String]] = [:]
        for outgoing in batch {
            if let address = outgoing.message.subscriber.email { addresses[outgoing.message.tenantID, default: []].append(address.lowercased()) }
        }
        var found: [String: Result<[String: Suppression], any Error>] = [:]
        for (tenantID, list) in addresses {
            do {
                found[tenantID] = .success(try await suppressions(tenantID, list))
            } catch {
                found[tenantID] = .failure(error)
            }
        }
        return found
    }

    /// Sends through the route's first link; what it could not even try (the server or provider is unreachable,
    /// its circuit open, its credentials refused) goes to the next link, and so on. A refusal by a server or
    /// provider that answered (a 5xx for this recipient) is not retried elsewhere: another would hear the same.
    func send(_ emails: [OutboundEmail], via route: EmailRoute) async -> [EmailSendOutcome] {
        guard let first = route.links.first else { return emails.map { _ in .transientFailure("no email transport") } }
        var outcomes = await first.send(emails)
        var previous = first
        for link in route.links.dropFirst() {
            let deferred = outcomes.indices.filter { if case .deferred = outcomes[$0] { return true } else { return false } }
            guard !deferred.isEmpty else { break }
            let next = await link.send(deferred.map { emails[$0] })
            for (index, outcome) in zip(deferred, next) {
                guard case .deferred(let why, _) = outcomes[index] else { continue }
                let note = "\(previous.name) unavailable (\(why)); via fallback \(link.name)"
                switch outcome {
                case .accepted(let detail): outcomes[index] = .accepted("\(note): \(detail)")
                case .transientFailure(let detail): outcomes[index] = .transientFailure("\(note): \(detail)")
                case .permanentFailure(let detail): outcomes[index] = .permanentFailure("\(note): \(detail)")
                case .deferred(let detail, let retryAfter): outcomes[index] = .deferred("\(note): \(detail)", retryAfter: retryAfter)
                }
            }
            previous = link
        }
        return outcomes
    }

    /// Where a tenant's email goes: its own chain (`transports`, or `smtp` then `smtp_fallback`), else the
    /// server's, else the outbox. A tenant's links go through the destination policy; the operator's do not.
    public func route(for settings: EmailSettings) throws -> EmailRoute {
        let own = settings.chain
        if !own.isEmpty { return EmailRoute(links: try own.map { try transport(for: $0, tenant: true) }) }
        let server = defaults.chain
        if !server.isEmpty { return EmailRoute(links: try server.map { try transport(for: $0, tenant: false) }) }
        return EmailRoute(links: [outbox])
    }

    /// The transport for one link of a chain.
    func transport(for link: EmailTransportConfiguration, tenant: Bool) throws -> any EmailTransport {
        if case .smtp(let server) = link { return SMTPTransport(pool: try pool(for: server, tenant: tenant)) }
        guard let transport = ProviderTransport(link: link, http: tenant ? http : operatorHTTP, circuits: circuits) else {
            throw EmailProviderError.invalidEndpoint(link.kind)
        }
        return transport
    }

    func pool(for server: SMTPServerConfiguration, tenant: Bool = false) throws -> SMTPConnectionPool {
        let key = PoolKey(server: server, tenant: tenant)
        if let pool = pools.withLock({ $0[key] }) { return pool }
        let created = try SMTPConnectionPool(
            server: server, heloName: server.heloName ?? heloName, destinationPolicy: tenant ? destinationPolicy : nil)
        return pools.withLock { pools in
            if let existing = pools[key] { return existing }
            pools[key] = created
            return created
        }
    }

    private struct PoolKey: Hashable {
        var server: SMTPServerConfiguration
        var tenant: Bool
    }

    func settings(for tenantID: String) async throws -> EmailSettings {
        try await tenantSettings.cached(tenantID: tenantID)
    }

    /// Each SMTP server in use and whether its circuit is open (it was unreachable moments ago).
    public func circuits() async -> [(server: String, open: Bool)] {
        var states: [(server: String, open: Bool)] = []
        for pool in pools.withLock({ Array($0.values) }) { states.append(("smtp \(pool.server)", await pool.isCircuitOpen)) }
        return states.sorted { $0.server < $1.server }
    }

    /// Forgets the tenant's cached settings, so a change takes effect on the next message. Changes made
    /// through the engine do this themselves; this is for settings written to the store by other means.
    public func settingsChanged(tenantID: String) {
        tenantSettings.forget(tenantID: tenantID)
    }

    public func run() async throws {
        // Sleep until shutdown, closing idle connections once a second; then QUIT everywhere.
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            for pool in pools.withLock({ Array($0.values) }) { await pool.closeIdle() }
        }
        for pool in pools.withLock({ Array($0.values) }) { await pool.shutdown() }
    }
}
