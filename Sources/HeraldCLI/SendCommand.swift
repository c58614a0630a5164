import ArgumentParser
import Foundation
import Herald

/// Triggers an event from the shell, straight into the database: a running `herald serve` on the same
/// database delivers it.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send", abstract: "Trigger an event from the shell.",
        discussion: """
            Example:
              herald send --tenant "Maple Court" --type visitor_arrival --to flat-12 \\
                --payload '{"visitor_name": "Ana", "arrived_at": "2026-11-21T10:00:00Z"}'
            """)

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "Tenant id or name.")
    var tenant: String

    @Option(name: .long, help: "Event type key.")
    var type: String

    @Option(name: .long, parsing: .upToNextOption, help: "Subscriber ids.")
    var to: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Topic keys.")
    var topic: [String] = []

    @Option(name: .long, help: "Payload as a JSON object.")
    var payload: String = "{}"

    @Option(name: .long, help: "Idempotency key.")
    var idempotencyKey: String?

    func run() async throws {
        let configuration = try common.load()
        let engine = try await configuration.openEngine(logger: common.logger(configuration))
        guard let found = try await engine.tenant(named: tenant) else { throw ValidationError("no tenant with id or name '\(tenant)'") }
        guard case .object(let values)? = try? JSONValue.parse(payload) else { throw ValidationError("--payload must be a JSON object") }
        let recipients = to.map(Recipient.subscriber) + topic.map(Recipient.topic)
        do {
            let (receipt, replayed) = try await engine.trigger(
                Trigger(type: type, recipients: recipients, payload: values, actor: "cli"), tenantID: found.id, idempotencyKey: idempotencyKey)
            print(JSONCoding.encodeText(receipt))
            if replayed { print("(replayed: this idempotency key was used before)") }
        } catch let error as HeraldError {
            throw ValidationError(error.description)
        }
    }
}
