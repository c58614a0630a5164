extension WebhookSettings {
    /// The settings as `GET` and `PUT` show them: each endpoint with what the server knows about it right now
    /// (read-only; a `PUT` sending it back has it ignored, see ``ReadOnlyField``).
    public struct Answer: Encodable {
        /// An endpoint as stored, with its circuit and, for a status endpoint, its deliveries.
        public struct Endpoint: Encodable {
            public var endpoint: WebhookEndpoint
            /// `closed`, `open` or `half_open`: whether Herald is holding back because the endpoint failed.
            public var circuit: String
            /// Status endpoints: their queued, delivered and failed status webhooks.
            public var deliveries: [String: Int]?

            public func encode(to encoder: any Encoder) throws {
                try endpoint.encode(to: encoder)
                var container = encoder.container(keyedBy: ReadOnlyField.self)
                try container.encode(circuit, forKey: .circuit)
                try container.encodeIfPresent(deliveries, forKey: .deliveries)
            }
        }

        public var endpoints: [Endpoint]
        public var subscriberSecrets: [String]
        public var statusEndpoints: [Endpoint]

        enum CodingKeys: String, CodingKey {
            case endpoints
            case subscriberSecrets = "subscriber_secrets"
            case statusEndpoints = "status_endpoints"
        }

        /// `shown` (already redacted) with each endpoint's circuit state and each status endpoint's delivery
        /// counts (`counts`, by URL).
        init(_ shown: WebhookSettings, counts: [String: [String: Int]], circuits: CircuitBreakers) {
            func circuit(_ url: String) -> String { circuits.state(WebhookCircuit.endpoint(url)).name }
            self.endpoints = shown.endpoints.map { Endpoint(endpoint: $0, circuit: circuit($0.url)) }
            self.subscriberSecrets = shown.subscriberSecrets
            self.statusEndpoints = shown.statusEndpoints.map {
                Endpoint(
                    endpoint: $0, circuit: circuit($0.url),
                    deliveries: ["pending": 0, "delivered": 0, "failed": 0].merging(counts[$0.url] ?? [:]) { _, counted in counted })
            }
        }
    }
}
