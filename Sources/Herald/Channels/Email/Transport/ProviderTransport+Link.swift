extension ProviderTransport {
    /// The transport of one provider link of a failover chain; nil for an SMTP link, which has its own transport.
    public init?(link: EmailTransportConfiguration, http: OutboundHTTPClient, circuits: CircuitBreakers) {
        let client: any EmailProviderClient
        switch link {
        case .smtp: return nil
        case .ses(let configuration): client = SESClient(configuration: configuration)
        case .sendgrid(let configuration): client = SendGridClient(configuration: configuration)
        case .postmark(let configuration): client = PostmarkClient(configuration: configuration)
        case .mailgun(let configuration): client = MailgunClient(configuration: configuration)
        }
        self.init(client: client, http: http, circuits: circuits)
    }
}
