import Foundation

/// One step of a ``Workflow``: send on channels, wait, or collect into a digest; optionally only `if`
/// a ``WorkflowCondition`` holds when the step is reached.
public struct WorkflowStep: Sendable, Codable, Hashable {
    public enum Action: Sendable, Hashable {
        /// One channel, all of several, or the first of several that works.
        case send([ChannelKind], SendMode)
        /// A span of time, or until the next time of day on the subscriber's clock; cut short when
        /// `until` happens to this event's messages, which ends the run (the escalation is not needed).
        case wait(WaitSpec)
        /// The following sends of the run go into the digest this describes (``DigestSpec``).
        case digest(DigestSpec)
    }

    /// How a step with several channels sends.
    public enum SendMode: String, Sendable, Codable, Hashable, CaseIterable {
        /// On every channel at once (the default).
        case all
        /// On the first channel, then the next if that one fails permanently, is refused by a preference
        /// or has no address: fallback, not broadcast.
        case firstSuccess = "first_success"
    }

    public var action: Action
    /// When set, the step runs only if this holds when it is reached; otherwise it is skipped.
    public var condition: WorkflowCondition?

    public init(_ action: Action, if condition: WorkflowCondition? = nil) {
        self.action = action
        self.condition = condition
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case send, mode, wait
        case waitUntilTime = "wait_until"
        case until, digest
        case condition = "if"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        condition = try container.decodeIfPresent(WorkflowCondition.self, forKey: .condition)
        let kinds = [CodingKeys.send, .wait, .waitUntilTime, .digest].filter(container.contains)
        guard kinds.count == 1, let kind = kinds.first else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: container.codingPath,
                    debugDescription: kinds.isEmpty
                        ? "a step needs one of send, wait, wait_until or digest"
                        : "a step does one thing: give only one of \(kinds.map(\.stringValue).joined(separator: ", "))"))
        }
        let onlyFor: [CodingKeys: CodingKeys] = [.mode: .send, .until: .wait]
        for (key, owner) in onlyFor where container.contains(key) && !(kind == owner || (key == .until && kind == .waitUntilTime)) {
            throw DecodingError.dataCorrupted(
                .init(codingPath: container.codingPath + [key], debugDescription: "\(key.stringValue) only goes with \(owner.stringValue)"))
        }
        switch kind {
        case .send:
            let channels: [ChannelKind]
            if let one = try? container.decode(ChannelKind.self, forKey: .send) {
                channels = [one]
            } else {
                channels = try container.decode([ChannelKind].self, forKey: .send)
            }
            action = .send(channels, try container.decodeIfPresent(SendMode.self, forKey: .mode) ?? .all)
        case .wait:
            action = .wait(WaitSpec(duration: try Self.duration(container), until: try container.decodeIfPresent(WaitSpec.Until.self, forKey: .until)))
        case .waitUntilTime:
            action = .wait(
                WaitSpec(
                    timeOfDay: try container.decode(String.self, forKey: .waitUntilTime),
                    until: try container.decodeIfPresent(WaitSpec.Until.self, forKey: .until)))
        default:
            action = .digest(try container.decode(DigestSpec.self, forKey: .digest))
        }
    }

    /// `wait: 15m`, or a plain number of seconds (`wait: 900`), read once here within bounds so nothing
    /// later converts an unbounded number.
    private static func duration(_ container: KeyedDecodingContainer<CodingKeys>) throws -> String {
        if let text = try? container.decode(String.self, forKey: .wait) { return text }
        let seconds = try container.decode(Double.self, forKey: .wait)
        guard seconds.isFinite, seconds > 0, seconds <= Seconds.ceiling else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: container.codingPath + [CodingKeys.wait], debugDescription: "must be a duration like 15m, or a positive number of seconds"))
        }
        return Int64(exactly: seconds).map { "\($0)s" } ?? "\(seconds)s"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch action {
        case .send(let channels, let mode):
            if channels.count == 1 { try container.encode(channels[0], forKey: .send) } else { try container.encode(channels, forKey: .send) }
            if mode != .all { try container.encode(mode, forKey: .mode) }
        case .wait(let wait):
            if let duration = wait.duration { try container.encode(duration, forKey: .wait) }
            if let time = wait.timeOfDay { try container.encode(time, forKey: .waitUntilTime) }
            try container.encodeIfPresent(wait.until, forKey: .until)
        case .digest(let digest):
            try container.encode(digest, forKey: .digest)
        }
        try container.encodeIfPresent(condition, forKey: .condition)
    }

    /// The step as people read it in a timeline: `send email`, `wait 15m until read`.
    public var summary: String {
        switch action {
        case .send(let channels, let mode):
            "send " + channels.map(\.rawValue).joined(separator: mode == .firstSuccess ? " or " : " and ")
        case .wait(let wait):
            "wait " + (wait.duration ?? "until \(wait.timeOfDay ?? "")") + (wait.until.map { " until \($0.rawValue)" } ?? "")
        case .digest(let digest):
            "digest " + (digest.window ?? digest.schedule ?? "")
        }
    }
}
