import Herald
import Testing

@Suite("Preference resolution")
struct PreferenceResolverTests {
    static let medium = EventType(key: "payment_due", priority: .medium, channels: [.inApp, .email], defaults: [.email: false])
    static let critical = EventType(key: "emergency_alert", priority: .critical, channels: [.inApp, .email])

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var eventType: EventType
        var channel: ChannelKind
        var subscriber: [PreferenceRule]
        var tenant: [PreferenceRule]
        var expected: Bool
        var source: PreferenceSource
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "nothing set: on", eventType: medium, channel: .inApp, subscriber: [], tenant: [], expected: true, source: .default),
        Case(name: "event-type default off", eventType: medium, channel: .email, subscriber: [], tenant: [], expected: false, source: .eventType),
        Case(
            name: "subscriber type×channel beats event-type default", eventType: medium, channel: .email,
            subscriber: [PreferenceRule(eventType: "payment_due", channel: "email", enabled: true)], tenant: [], expected: true, source: .subscriber),
        Case(
            name: "subscriber type×channel beats subscriber any×any", eventType: medium, channel: .inApp,
            subscriber: [PreferenceRule(enabled: false), PreferenceRule(eventType: "payment_due", channel: "in_app", enabled: true)], tenant: [],
            expected: true, source: .subscriber),
        Case(
            name: "subscriber type×any beats any×channel", eventType: medium, channel: .inApp,
            subscriber: [PreferenceRule(channel: "in_app", enabled: true), PreferenceRule(eventType: "payment_due", enabled: false)], tenant: [],
            expected: false, source: .subscriber),
        Case(
            name: "subscriber all off", eventType: medium, channel: .inApp, subscriber: [PreferenceRule(enabled: false)], tenant: [],
            expected: false, source: .subscriber),
        Case(
            name: "tenant type rule beats event-type default", eventType: medium, channel: .email, subscriber: [],
            tenant: [PreferenceRule(eventType: "payment_due", channel: "email", enabled: true)], expected: true, source: .tenant),
        Case(
            name: "event-type default beats tenant any-type rule", eventType: medium, channel: .email, subscriber: [],
            tenant: [PreferenceRule(channel: "email", enabled: true)], expected: false, source: .eventType),
        Case(
            name: "tenant any-type rule applies without event-type default", eventType: medium, channel: .inApp, subscriber: [],
            tenant: [PreferenceRule(channel: "in_app", enabled: false)], expected: false, source: .tenant),
        Case(
            name: "subscriber beats tenant", eventType: medium, channel: .inApp, subscriber: [PreferenceRule(channel: "in_app", enabled: true)],
            tenant: [PreferenceRule(eventType: "payment_due", channel: "in_app", enabled: false)], expected: true, source: .subscriber),
        Case(
            name: "critical ignores subscriber off", eventType: critical, channel: .inApp, subscriber: [PreferenceRule(enabled: false)],
            tenant: [PreferenceRule(enabled: false)], expected: true, source: .critical),
        Case(
            name: "other type's rule does not apply", eventType: medium, channel: .inApp,
            subscriber: [PreferenceRule(eventType: "newsletter", channel: "in_app", enabled: false)], tenant: [], expected: true, source: .default),
    ]

    @Test(arguments: cases)
    func resolves(_ testCase: Case) {
        let resolver = PreferenceResolver(tenantRules: testCase.tenant)
        let result = resolver.resolve(eventType: testCase.eventType, channel: testCase.channel, subscriberRules: testCase.subscriber)
        #expect(result.enabled == testCase.expected)
        #expect(result.source == testCase.source)
    }

    @Test func plannerSuppressesWithReasons() {
        let planner = MessagePlanner(eventType: Self.medium, preferences: PreferenceResolver(tenantRules: []))
        let withEmail = RecipientRecord(
            rowID: 1, subscriber: Subscriber(id: "a", email: "a@example.com"),
            rules: [PreferenceRule(eventType: "payment_due", channel: "email", enabled: true)])
        let noEmail = RecipientRecord(
            rowID: 2, subscriber: Subscriber(id: "b"), rules: [PreferenceRule(eventType: "payment_due", channel: "email", enabled: true)])
        let optedOut = RecipientRecord(rowID: 3, subscriber: Subscriber(id: "c", email: "c@example.com"), rules: [PreferenceRule(enabled: false)])
        let planned = planner.plan([withEmail, noEmail, optedOut])
        #expect(planned.count == 6)
        #expect(planned.filter { $0.status == .queued }.map(\.subscriberRowID) == [1, 1, 2])
        #expect(planned.first { $0.subscriberRowID == 2 && $0.channel == .email }?.reason == .noAddress)
        #expect(planned.filter { $0.subscriberRowID == 3 }.allSatisfy { $0.reason == .preference })
    }
}
