import Foundation

/// What ``MessagePlanner`` reads besides the event: recipients with their rules, and the tenant's
/// preferences, email settings and destinations.
public struct PlannerInputs: Sendable {
    public var recipients: [Int64: RecipientRecord]
    public var preferences: PreferenceResolver
    public var email: EmailSettings
    public var destinations: Set<ChannelKind>

    public init(recipients: [Int64: RecipientRecord], preferences: PreferenceResolver, email: EmailSettings, destinations: Set<ChannelKind>) {
        self.recipients = recipients
        self.preferences = preferences
        self.email = email
        self.destinations = destinations
    }
}
