extension EmailSettings {
    /// Read-only beside the settings: the sender and transport in force. Holds no credentials.
    public struct Effective: Encodable, Sendable {
        public struct Server: Encodable, Sendable {
            public var host: String
            public var port: Int
            public var security: SMTPServerConfiguration.Security
            /// `tenant` for the tenant's own server, `server` for the server-wide default.
            public var source: String
        }

        public var fromAddress: String
        public var fromName: String?
        public var replyTo: String?
        public var unsubscribeMailto: String?
        /// `smtp`, or `outbox` when email is written to files because no SMTP server is configured.
        public var transport: String
        public var smtp: Server?

        enum CodingKeys: String, CodingKey {
            case fromAddress = "from_address"
            case fromName = "from_name"
            case replyTo = "reply_to"
            case unsubscribeMailto = "unsubscribe_mailto"
            case transport, smtp
        }

        init(settings: EmailSettings, defaults: EmailDefaults) {
            self.fromAddress = settings.fromAddress ?? defaults.fromAddress
            self.fromName = settings.fromName ?? defaults.fromName
            self.replyTo = settings.replyTo ?? defaults.replyTo
            self.unsubscribeMailto = settings.unsubscribeMailto ?? defaults.unsubscribeMailto
            if let server = settings.smtp {
                self.smtp = Server(host: server.host, port: server.port, security: server.security, source: "tenant")
            } else if let server = defaults.smtp {
                self.smtp = Server(host: server.host, port: server.port, security: server.security, source: "server")
            }
            self.transport = smtp == nil ? "outbox" : "smtp"
        }

        /// Absent values are written as `null`, so a reader sees every effective field.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(fromAddress, forKey: .fromAddress)
            try container.encode(fromName, forKey: .fromName)
            try container.encode(replyTo, forKey: .replyTo)
            try container.encode(unsubscribeMailto, forKey: .unsubscribeMailto)
            try container.encode(transport, forKey: .transport)
            try container.encode(smtp, forKey: .smtp)
        }
    }
}
