import ArgumentParser
import Foundation
import Herald

struct EmailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "email", abstract: "Check email delivery settings.", subcommands: [Test.self])

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
            let host = ProcessInfo.processInfo.hostName
            let message = EmailMessage(
                from: try EmailAddress(configuration.email.fromAddress, name: configuration.email.fromName),
                to: [try EmailAddress(to)],
                subject: "Herald test email from \(host)",
                html: """
                    <p>This is a test email from Herald on <strong>\(host)</strong>.</p>
                    <p>If you can read it, Herald's email settings work.</p>
                    """,
                messageID: EmailMessage.makeMessageID(
                    messageKey: "test_\(Int(Date().timeIntervalSince1970))", eventID: "cli",
                    domain: String(configuration.email.fromAddress.split(separator: "@").last ?? "localhost")))
            let email = OutboundEmail(
                sender: message.from.address, recipient: to, messageID: message.messageID, bytes: try MIMEEncoder.encode(message))
            let tester = EmailTester(outboxDirectory: URL(fileURLWithPath: configuration.outboxPath))
            let result = await tester.send(email, server: configuration.email.smtp) { line in print(line) }
            print("\(result.outcome.rawValue): \(result.detail)")
            if result.outcome != .accepted { throw ExitCode.failure }
        }
    }
}
