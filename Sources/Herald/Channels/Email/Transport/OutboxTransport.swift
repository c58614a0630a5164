import Foundation

/// The embedded default: with no SMTP server configured, each email is written to the outbox folder as
/// an `.eml` file any mail program opens. The file is named after the Message-ID, so a retry of the
/// same message replaces its file instead of adding a second one.
public struct OutboxTransport: EmailTransport {
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory
    }

    public var name: String { "outbox \(directory.path)" }

    public func send(_ emails: [OutboundEmail]) async -> [EmailSendOutcome] {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            return emails.map { _ in .transientFailure("cannot create the outbox folder \(directory.path): \(error.localizedDescription)") }
        }
        return emails.map { email in
            let url = directory.appendingPathComponent(Self.fileName(for: email))
            do {
                try Data(email.bytes).write(to: url, options: .atomic)
                return .accepted("written to \(url.path)")
            } catch {
                return .transientFailure("cannot write \(url.path): \(error.localizedDescription)")
            }
        }
    }

    /// `msg_12.ev_abc@host` → `msg_12.ev_abc@host.eml`, with anything unsafe in a file name replaced.
    static func fileName(for email: OutboundEmail) -> String {
        let safe = email.messageID.unicodeScalars.map { scalar -> Character in
            CharacterSet.alphanumerics.contains(scalar) || "._-@".unicodeScalars.contains(scalar) ? Character(scalar) : "_"
        }
        return String(safe) + ".eml"
    }
}
