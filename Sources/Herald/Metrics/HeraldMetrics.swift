import Foundation
import Prometheus

/// The numbers an operator watches, in one Prometheus registry per engine: `GET /metrics` emits it.
///
/// Counters and histograms are updated where things happen (the dispatcher records each outcome it
/// commits); gauges that describe stored state (queue depth) are read from the store at scrape time, so
/// they are right even after a restart.
///
/// The registry is the engine's own rather than the process-wide swift-metrics backend, so two engines
/// in one process (tests, an app embedding Herald twice) never mix their figures. `herald serve` also
/// bootstraps swift-metrics onto it, so library metrics (Hummingbird's HTTP request metrics) land here too.
public final class HeraldMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    /// Attempt durations, 1 ms to 30 s: an in-app store write is a millisecond, a slow SMTP server seconds.
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    public init() {}

    /// Counts a committed delivery outcome and times its attempt.
    public func recordOutcome(
        channel: ChannelKind, priority: Priority, status: MessageStatus, attemptDurationMs: Double, attemptOutcome: DeliveryAttempt.Outcome
    ) {
        registry.makeCounter(
            name: "herald_messages_total",
            labels: [("channel", channel.rawValue), ("status", status.rawValue), ("priority", priority.rawValue)],
            help: "Messages that reached a status in the dispatcher (a retry counts as queued), by channel, status and priority."
        ).increment()
        registry.makeDurationHistogram(
            name: "herald_delivery_attempt_duration_seconds", labels: [("channel", channel.rawValue), ("outcome", attemptOutcome.rawValue)],
            buckets: Self.durationBuckets, help: "How long one delivery attempt took, by channel and outcome."
        ).record(Seconds(clamping: attemptDurationMs / 1000).duration)
    }

    /// Counts an accepted event. By priority only: event type keys are a tenant's own names, and /metrics is
    /// not scoped to a tenant (`GET /v1/stats` gives each tenant its figures per event type).
    public func recordEventAccepted(priority: Priority) {
        registry.makeCounter(name: "herald_events_total", labels: [("priority", priority.rawValue)], help: "Events accepted, by priority.")
            .increment()
    }

    /// Counts a workflow run that ended, by how: `completed` or `cancelled`, and its outcome (`finished`,
    /// `read` …, a fixed set).
    public func recordWorkflowRun(status: WorkflowRunStatus, outcome: String) {
        registry.makeCounter(
            name: "herald_workflow_runs_total", labels: [("status", status.rawValue), ("outcome", outcome)],
            help: "Workflow runs that ended, by status and outcome (finished, or what cut them short)."
        ).increment()
    }

    /// Sets the gauges that describe stored state; called just before each scrape.
    public func refresh(queue: QueueDepth, circuits: [(server: String, open: Bool)]) {
        for priority in Priority.allCases {
            registry.makeGauge(
                name: "herald_queue_depth", labels: [("priority", priority.rawValue)], help: "Messages queued or in flight, by priority."
            ).set(to: Double(queue.byPriority[priority.rawValue] ?? 0))
        }
        registry.makeGauge(name: "herald_fanout_jobs", help: "Topic fan-out jobs not finished yet.").set(to: Double(queue.fanoutJobs))
        // By kind of transport only: a circuit's own name holds a tenant's SMTP host or a subscriber's webhook host,
        // which /metrics (open, and not scoped to a tenant) must not show, and whose number has no bound.
        var open = Dictionary(uniqueKeysWithValues: Self.circuitTransports.map { ($0, 0) })
        for circuit in circuits where circuit.open { open[Self.transport(ofCircuit: circuit.server), default: 0] += 1 }
        for (transport, count) in open {
            registry.makeGauge(
                name: "herald_circuits_open", labels: [("transport", transport)],
                help: "Provider endpoints whose circuit is open now (sends to them are deferred), by kind of transport."
            ).set(to: Double(count))
        }
    }

    /// The kinds of transport a circuit can belong to: the first word of its name (`webhook hooks.example.com`).
    static let circuitTransports = ["smtp", "webhook", "chat", "sms", "other"]

    /// The bounded label of a circuit: its kind, or `other` for a name of no known kind.
    static func transport(ofCircuit name: String) -> String {
        let kind = String(name.prefix { $0 != " " })
        return circuitTransports.contains(kind) ? kind : "other"
    }

    public func refreshLiveInbox(connections: Int) {
        registry.makeGauge(name: "herald_inbox_connections", help: "Open live inbox connections (SSE and WebSocket) on this node.")
            .set(to: Double(connections))
    }

    /// The Prometheus text exposition of everything above.
    public func exposition() -> String {
        registry.emitToString()
    }
}
