import ArgumentParser
import Foundation
import Herald

struct EmailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "email", abstract: "Check email delivery settings.", subcommands: [Test.self, DNS.self])

    struct DNS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dns", abstract: "Print the DNS records a tenant publishes: DKIM keys, SPF, DMARC and the bounce domain.",
            discussion: "The same records as GET /v1/settings/email/dns, as zone file lines (or JSON with --json).")

        @OptionGroup var common: CommonOptions

        @Option(name: .long, help: "The tenant's id.")
        var tenant: String

        @Flag(name: .long, help: "Print the records as JSON.")
        var json = false

        func run() async throws {
            let configuration = try common.load()
            let engine = try await configuration.openEngine(logger: common.logger(configuration))
            guard try await engine.tenants().contains(where: { $0.id == tenant }) else {
                throw ValidationError("no tenant '\(tenant)'")
            }
            let dns = try await engine.emailDNSRecords(tenantID: tenant)
            if json {
                print(JSONCoding.encodeText(dns))
                return
            }
            for record in dns.records {
                if let note = record.note { print("; \(record.purpose): \(note)") }
                print("\(record.name).\tIN\t\(record.type)\t\(record.zoneFileValue)")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a test email through the configured SMTP server, printing every SMTP step.",
            discussion: """
                Uses the server's email settings (herald.yml `email:`, or HERALD_SMTP_URL and friends). With no SMTP
                server configured, the email is written to the outbox folder instead. Credentials are never printed.
                """)

        @OptionGroup var common: CommonOptions

        @Option(name: .long, help: "The address to send the test email to.")
        var to: String

        @Option(name: .long, help: "SMTP server for this test only, e.g. smtp://user:password@mail.example.com:587.")
        var smtpURL: String?

        @Option(name: .long, help: "From address for this test (default: the configured one).")
        var from: String?

        @Option(name: .long, help: "PEM certificate(s) to trust for this test, e.g. a self-signed server's (or $HERALD_SMTP_CA_FILE).")
        var caFile: String?

        func run() async throws {
            var configuration = try common.load()
            if let smtpURL {
                // A server named here keeps the trust configured for the server (HERALD_SMTP_CA_FILE, herald.yml).
                let trusted = configuration.email.smtp?.trustedCertificatesPEM
                configuration.email.smtp = try HeraldConfiguration.smtpServer(url: smtpURL)
                configuration.email.smtp?.trustedCertificatesPEM = trusted
            }
            if let caFile = caFile ?? ProcessInfo.processInfo.environment["HERALD_SMTP_CA_FILE"] {
                guard let pem = try? String(contentsOfFile: caFile, encoding: .utf8) else {
                    throw ValidationError("cannot read the certificate file \(caFile)")
                }
                configuration.email.smtp?.trustedCertificatesPEM = pem
            }
            if let from { configuration.email.fromAddress = from }
            let message = EmailTester.testMessage(
                from: try EmailAddress(configuration.email.fromAddress, name: configuration.email.fromName), to: try EmailAddress(to),
                host: ProcessInfo.processInfo.hostName)
            let email = OutboundEmail(
                sender: message.from.address, recipient: to, messageID: message.messageID, bytes: try MIMEEncoder.encode(message), message: message)
            let tester = EmailTester(outboxDirectory: URL(fileURLWithPath: configuration.outboxPath))
            let result: EmailTester.Result
            // The first link of the server's chain (`email.transports`), unless --smtp-url names a server.
            if smtpURL == nil, let first = configuration.email.chain.first, let provider = ProviderTransport(
                link: first, http: OutboundHTTPClient(policy: DestinationPolicy(allowPrivateNetworks: true)), circuits: CircuitBreakers())
            {
                result = await tester.send(email, through: provider) { line in print(line) }
            } else {
                var server: SMTPServerConfiguration?
                if smtpURL == nil, case .smtp(let configured)? = configuration.email.chain.first { server = configured } else { server = configuration.email.smtp }
                result = await tester.send(email, server: server) { line in print(line) }
            }
            print("\(result.outcome.rawValue): \(result.detail)")
            if result.outcome != .accepted { throw ExitCode.failure }
        }
    }
}
