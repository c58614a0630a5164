/// Everything a step's condition can see when the workflow reaches that step, gathered by the caller so evaluation
/// stays pure: no store, no clock.
public struct ConditionContext: Sendable {
    /// The event's payload, as triggered.
    public var payload: [String: JSONValue]
    public var subscriber: Subscriber
    public var priority: Priority
    public var tenantID: String
    /// Whether any message of this event to this subscriber has been read so far.
    public var read: Bool
    /// Whether any message of this event to this subscriber has been seen so far.
    public var seen: Bool
    /// Whether any message of this event to this subscriber has been clicked so far (an inbox item's link, or a
    /// tracked email link).
    public var clicked: Bool
    /// Whether any message of this event to this subscriber has been delivered so far.
    public var delivered: Bool
    /// Whether any tracked email of this event to this subscriber has been opened so far.
    public var opened: Bool
    /// The steps before this one, in order; `steps.N` in a condition is `steps[N]` here.
    public var steps: [Step]

    /// How one earlier step ended up: its status (`sent`, `skipped`, `failed` …) and what became of its message.
    public struct Step: Sendable, Hashable {
        public var status: String
        public var read: Bool
        public var seen: Bool
        public var clicked: Bool
        public var delivered: Bool
        public var opened: Bool

        public init(
            status: String, read: Bool = false, seen: Bool = false, clicked: Bool = false, delivered: Bool = false, opened: Bool = false
        ) {
            self.status = status
            self.read = read
            self.seen = seen
            self.clicked = clicked
            self.delivered = delivered
            self.opened = opened
        }
    }

    /// The subscriber, priority and tenant are always known when a step runs; the rest defaults to an empty payload,
    /// nothing read, seen, clicked, delivered or opened yet, and no earlier steps.
    public init(
        payload: [String: JSONValue] = [:], subscriber: Subscriber, priority: Priority, tenantID: String, read: Bool = false,
        seen: Bool = false, clicked: Bool = false, delivered: Bool = false, opened: Bool = false, steps: [Step] = []
    ) {
        self.payload = payload
        self.subscriber = subscriber
        self.priority = priority
        self.tenantID = tenantID
        self.read = read
        self.seen = seen
        self.clicked = clicked
        self.delivered = delivered
        self.opened = opened
        self.steps = steps
    }
}
