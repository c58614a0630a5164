import Foundation

/// The SMS channel: checks the number, fits the text into the allowed segments, and sends through the
/// tenant's providers (else the server's) in failover order.
///
/// A number that is not E.164 fails the message at once: no provider can be trusted to guess its country.
/// Every attempt's detail ends with what was sent: `2 segments, GSM-7`, or `10 segments, UCS-2, cut from 14`.
public final class SMSChannel: DeliveryChannel {
    public let kind = ChannelKind.sms
    let defaults: SMSDefaults
    let http: OutboundHTTPClient
    let failover: FailoverDelivery
    /// Messages in flight at once, across all providers.
    let concurrency: Int
    /// Tenants' SMS settings, read through their family's short cache.
    let tenantSettings: TenantSettings<SMSSettings>

    public init(
        defaults: SMSDefaults, http: OutboundHTTPClient, circuits: CircuitBreakers, concurrency: Int = 16,
        settings: TenantSettings<SMSSettings>
    ) {
        self.defaults = defaults
        self.http = http
        self.failover = FailoverDelivery(circuits: circuits)
        self.concurrency = concurrency
        self.tenantSettings = settings
    }

    public func deliver(_ batch: [OutgoingMessage]) async -> [ChannelResult] {
        var results = [ChannelResult?](repeating: nil, count: batch.count)
        var ready: [(index: Int, outgoing: OutgoingMessage, fitted: SMSText, providers: [any MessageProvider])] = []
        for (index, outgoing) in batch.enumerated() {
            let phone = outgoing.message.subscriber.phone ?? ""
            if let problem = PhoneNumber.problem(in: phone) {
                results[index] = .permanentFailure("the subscriber's phone number '\(PhoneNumber.masked(phone))' is not E.164: it \(problem)")
                continue
            }
            let settings: SMSSettings
            do {
                settings = try await self.settings(for: outgoing.message.tenantID)
            } catch {
                results[index] = .transientFailure("cannot read the tenant's SMS settings: \(error)")
                continue
            }
            let configurations = settings.providers.isEmpty ? defaults.providers : settings.providers
            let providers = configurations.compactMap { Self.provider($0, http: http) }
            guard !providers.isEmpty else {
                results[index] = .permanentFailure("no SMS provider: the tenant's SMS settings list none and the server has no default")
                continue
            }
            let fitted = SMSText.fitting(outgoing.content["text"] ?? "", maxSegments: settings.maxSegments ?? defaults.maxSegments)
            var prepared = outgoing
            prepared.content.parts["text"] = fitted.text
            ready.append((index, prepared, fitted, providers))
        }
        let chains = Dictionary(uniqueKeysWithValues: ready.map { ($0.outgoing.message.rowID, $0.providers) })
        let outcomes = await failover.deliver(ready.map(\.outgoing), concurrency: concurrency) { outgoing in
            .success(chains[outgoing.message.rowID] ?? [])
        }
        for (item, outcome) in zip(ready, outcomes) {
            results[item.index] = outcome.appendingDetail(item.fitted.summary)
        }
        return results.map { $0 ?? .transientFailure("the SMS channel gave no result") }
    }

    /// The provider a configuration describes, or nil for an incomplete one.
    public static func provider(_ configuration: SMSProviderConfiguration, http: OutboundHTTPClient) -> (any MessageProvider)? {
        switch configuration.type {
        case .twilio: TwilioProvider(configuration, http: http)
        case .json: JSONSMSProvider(configuration, http: http)
        }
    }

    func settings(for tenantID: String) async throws -> SMSSettings {
        try await tenantSettings.cached(tenantID: tenantID)
    }
}
