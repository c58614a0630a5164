import Foundation

/// An in-app message rendered at planning (``InAppComposer``): its inbox content, and the subscriber it
/// is for, to announce once it is written.
public struct ComposedInApp: Sendable, Hashable {
    public var content: InboxContent
    public var subscriber: Subscriber
}
