import Foundation

/// A message a run's steps made, as the stepper and conditions see it.
public struct RunMessage: Sendable, Hashable {
    /// The workflow step that sent it (from 0).
    public var step: Int
    public var channel: ChannelKind
    public var status: MessageStatus
    public var read: Bool
    public var seen: Bool
    public var clicked: Bool
    /// A tracked email's open pixel was loaded.
    public var opened: Bool

    public init(
        step: Int, channel: ChannelKind, status: MessageStatus, read: Bool = false, seen: Bool = false, clicked: Bool = false, opened: Bool = false
    ) {
        self.step = step
        self.channel = channel
        self.status = status
        self.read = read
        self.seen = seen
        self.clicked = clicked
        self.opened = opened
    }

    /// Whether it reached the recipient: handed to the provider, or in the inbox.
    public var delivered: Bool { status == .delivered || status == .sent }

    /// Whether it will never reach the recipient.
    public var failed: Bool { [.failed, .deadLettered, .suppressed, .cancelled].contains(status) }
}
