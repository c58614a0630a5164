import Foundation
import Logging
import Synchronization

/// The push channel: one message per subscriber, sent to each of their active devices through APNs, FCM or
/// Web Push, with the tenant's keys (else the server's).
///
/// A message is `sent` when at least one device took it; its attempt detail lists every device's answer. A
/// device its provider reports gone is deactivated at once and never sent to again. Critical event types go
/// with each platform's highest priority (APNs 10 and `critical` or `time-sensitive`, FCM `high`, Web Push
/// `Urgency: high`); the rest at normal priority, so phones can batch them.
public final class PushChannel: DeliveryChannel {
    public let kind = ChannelKind.push
    let defaults: PushDefaults
    let http: OutboundHTTPClient
    let circuits: CircuitBreakers
    let store: any PushDeviceStore
    /// Tenants' push settings, read through their family's short cache.
    let tenantSettings: TenantSettings<PushSettings>
    let vapidProvider: @Sendable (String) async throws -> VAPIDKey
    let logger: Logger
    /// Sends in flight at once, across devices and providers.
    let concurrency: Int
    let webPush: WebPushSender
    /// How long a retired device is still named, as skipped, in its subscriber's push messages.
    static let retiredShownFor: TimeInterval = 30 * 86_400
    /// Senders per credentials: each holds its provider token (APNs JWT, FCM access token) for every send.
    private let apnsSenders = Mutex<[APNsCredentials: APNsTokenProvider]>([:])
    private let fcmSenders = Mutex<[FCMServiceAccount: FCMTokenProvider]>([:])
    /// Each tenant's VAPID key: made once and never changed, so read once per process.
    private let vapidKeys = Mutex<[String: VAPIDKey]>([:])

    public init(
        defaults: PushDefaults, http: OutboundHTTPClient, circuits: CircuitBreakers, store: any PushDeviceStore, concurrency: Int = 64,
        logger: Logger, settings: TenantSettings<PushSettings>,
        vapid: @escaping @Sendable (String) async throws -> VAPIDKey
    ) {
        self.defaults = defaults
        var http = http
        http.trustedCertificatesPEM = defaults.trustedCertificatesPEM
        self.http = http
        self.circuits = circuits
        self.store = store
        self.concurrency = concurrency
        self.logger = logger
        self.tenantSettings = settings
        self.vapidProvider = vapid
        self.webPush = WebPushSender(client: http)
    }

    /// One device's send, ready to go.
    struct DeviceSend: Sendable {
        var index: Int
        var device: PushDevice
        var route: PushRoute
    }

    public func deliver(_ batch: [OutgoingMessage]) async -> [ChannelResult] {
        var results = [ChannelResult?](repeating: nil, count: batch.count)
        var devices: [String: [String: [PushDevice]]] = [:]
        for (tenantID, outgoing) in Dictionary(grouping: batch, by: \.message.tenantID) {
            do {
                devices[tenantID] = try await store.pushDevices(
                    tenantID: tenantID, subscriberIDs: outgoing.map(\.message.subscriber.id), retiredSince: Date().addingTimeInterval(-Self.retiredShownFor))
            } catch {
                for (index, item) in batch.enumerated() where item.message.tenantID == tenantID {
                    results[index] = .transientFailure("cannot read the subscriber's devices: \(error)")
                }
            }
        }
        var sends: [DeviceSend] = []
        var skipped: [Int: [String]] = [:]
        for (index, outgoing) in batch.enumerated() where results[index] == nil {
            let message = outgoing.message
            let all = devices[message.tenantID]?[message.subscriber.id] ?? []
            let found = all.filter(\.active)
            let retired = all.filter { !$0.active }.map { "\($0.label) skipped, deactivated: \($0.deactivatedReason ?? "no reason recorded")" }
            skipped[index] = retired
            guard !found.isEmpty else {
                let note = retired.isEmpty ? "" : " (\(retired.joined(separator: "; ")))"
                results[index] = .suppressed(.noAddress, detail: "the subscriber has no active push device\(note)")
                continue
            }
            let notification: PushNotification
            switch PushNotification.make(
                content: outgoing.content, priority: message.priority, messageID: Message.publicID(message.rowID), eventType: outgoing.event.type)
            {
            case .success(let made): notification = made
            case .failure(let error):
                results[index] = .permanentFailure("\(error)")
                continue
            }
            let settings: PushSettings
            do {
                settings = try await self.settings(for: message.tenantID)
            } catch {
                results[index] = .transientFailure("cannot read the tenant's push settings: \(error)")
                continue
            }
            for device in found {
                sends.append(DeviceSend(index: index, device: device, route: route(device, notification, settings: settings, tenantID: message.tenantID)))
            }
        }
        let outcomes = await send(sends)
        var gone: [String: String] = [:]
        var byMessage: [Int: [(PushDevice, PushDeviceOutcome)]] = [:]
        for (send, outcome) in zip(sends, outcomes) {
            byMessage[send.index, default: []].append((send.device, outcome))
            if case .gone(let reason) = outcome { gone[send.device.id] = "\(reason) (\(send.device.platform.rawValue))" }
        }
        if !gone.isEmpty {
            do {
                try await store.deactivatePushDevices(gone, now: Date())
                logger.info("push devices deactivated", metadata: ["count": "\(gone.count)"])
            } catch {
                logger.error("could not deactivate push devices", metadata: ["count": "\(gone.count)", "error": "\(error)"])
            }
        }
        for (index, answers) in byMessage { results[index] = Self.result(answers, skipped: skipped[index] ?? []) }
        return results.map { $0 ?? .transientFailure("the push channel gave no result") }
    }

    /// A message's outcome from its devices' answers: sent when any device took it; else retried when any
    /// failure may pass; else failed. The detail names each device (by platform and the end of its token) and
    /// what its provider said.
    static func result(_ answers: [(PushDevice, PushDeviceOutcome)], skipped: [String] = []) -> ChannelResult {
        let lines = answers.map { device, outcome in "\(device.label): \(outcome.summary)" }
        let detail = "\(answers.count) device\(answers.count == 1 ? "" : "s"): " + (lines + skipped).joined(separator: "; ")
        var attempts = zip(answers, lines).map { answer, line in ChannelResult.DestinationAttempt(outcome: answer.1.attemptOutcome, detail: line) }
        // Devices retired earlier are named on the last entry, so the log says why they were not tried.
        if !skipped.isEmpty, !attempts.isEmpty { attempts[attempts.count - 1].detail += "; " + skipped.joined(separator: "; ") }
        if answers.contains(where: { if case .accepted = $0.1 { true } else { false } }) {
            return .fannedOut(.sent(detail: detail), attempts: attempts)
        }
        let waits = answers.compactMap { answer -> Double?? in
            if case .transientFailure(_, let retryAfter) = answer.1 { return .some(retryAfter) }
            return nil
        }
        if !waits.isEmpty {
            if let longest = waits.compactMap({ $0 }).max() { return .fannedOut(.deferred(detail, retryAfter: longest), attempts: attempts) }
            return .fannedOut(.transientFailure(detail), attempts: attempts)
        }
        return .fannedOut(.permanentFailure(detail), attempts: attempts)
    }

    /// Sends every device's push, at most ``concurrency`` at once; answers in order.
    func send(_ sends: [DeviceSend]) async -> [PushDeviceOutcome] {
        guard !sends.isEmpty else { return [] }
        var outcomes = [PushDeviceOutcome?](repeating: nil, count: sends.count)
        await withTaskGroup(of: (Int, PushDeviceOutcome).self) { group in
            var next = 0
            func start() {
                let position = next
                let route = sends[position].route
                group.addTask { [self] in (position, await self.deliver(route)) }
                next += 1
            }
            while next < min(concurrency, sends.count) { start() }
            for await (position, outcome) in group {
                outcomes[position] = outcome
                if next < sends.count { start() }
            }
        }
        return outcomes.map { $0 ?? .transientFailure("no answer", retryAfter: nil) }
    }

    /// One device's send behind its provider's circuit breaker.
    func deliver(_ route: PushRoute) async -> PushDeviceOutcome {
        let key = route.circuitKey
        if case .rejected(let wait) = circuits.permit(key) {
            return .transientFailure("\(key) failed repeatedly moments ago; waiting before trying it again", retryAfter: wait)
        }
        let outcome = await route.send(self)
        switch outcome {
        case .accepted, .gone, .permanentFailure: circuits.recordSuccess(key)
        case .transientFailure: circuits.recordFailure(key)
        }
        return outcome
    }

    func settings(for tenantID: String) async throws -> PushSettings {
        try await tenantSettings.cached(tenantID: tenantID)
    }

    func vapidKey(tenantID: String) async throws -> VAPIDKey {
        if let key = vapidKeys.withLock({ $0[tenantID] }) { return key }
        let key = try await vapidProvider(tenantID)
        vapidKeys.withLock { $0[tenantID] = key }
        return key
    }

    func apnsTokens(_ credentials: APNsCredentials) throws -> APNsTokenProvider {
        if let found = apnsSenders.withLock({ $0[credentials] }) { return found }
        let made = try APNsTokenProvider(credentials: credentials)
        return apnsSenders.withLock { all in
            if let found = all[credentials] { return found }
            all[credentials] = made
            return made
        }
    }

    func fcmTokens(_ account: FCMServiceAccount) throws -> FCMTokenProvider {
        if let found = fcmSenders.withLock({ $0[account] }) { return found }
        let made = try FCMTokenProvider(account: account, http: http)
        return fcmSenders.withLock { all in
            if let found = all[account] { return found }
            all[account] = made
            return made
        }
    }
}

extension PushDeviceOutcome {
    /// How the attempt log files this device's answer.
    var attemptOutcome: DeliveryAttempt.Outcome {
        switch self {
        case .accepted: .sent
        case .gone, .permanentFailure: .permanentFailure
        case .transientFailure: .transientFailure
        }
    }

    /// `accepted (apns-id …)`, `gone: 410 Unregistered`: one device's line in the attempt detail.
    var summary: String {
        switch self {
        case .accepted(let detail): "accepted (\(detail))"
        case .gone(let reason): "gone, deactivated: \(reason)"
        case .transientFailure(let reason, let retryAfter): "will retry\(retryAfter.map { " in \(NumberRule.format($0)) s" } ?? ""): \(reason)"
        case .permanentFailure(let reason): "failed: \(reason)"
        }
    }
}
