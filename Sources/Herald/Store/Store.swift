import Foundation

/// Everything Herald keeps, behind one protocol so the engine runs unchanged on SQLite or PostgreSQL.
///
/// Each method is one transaction. Hot paths take and return batches: claims, delivery outcomes,
/// fan-out chunks. Methods scoped to a tenant never see another tenant's rows; a miss is `nil` or
/// `false`, never an error that tells the caller the row exists elsewhere.
///
/// The requirements are split by concern, one protocol per part, each in its own file:
/// - ``CatalogStore``: tenants, API keys, settings, event types, subscribers, preferences, topics.
/// - ``IntakeStore``: accepting triggers, idempotency, events and cancellation, fan-out.
/// - ``QueueStore``: claims, leases, delivery outcomes, retries and dead letters, the activity log.
/// - ``FlowStateStore``: digests and schedules.
/// - ``InboxStore``: the in-app inbox.
/// - ``StatusWebhookStore``: the status-webhook queue.
/// - ``OperationsStore``: migrations, health, console sessions, queue depth, stats, retention.
/// - ``ClusterStore``: signals between nodes sharing a database.
/// - ``WorkflowStore``: workflow runs.
/// - ``TrackingStore``: email opens and clicks.
public protocol Store: CatalogStore, IntakeStore, QueueStore, FlowStateStore, InboxStore, StatusWebhookStore, SuppressionStore, PushDeviceStore, OperationsStore, ClusterStore,
    WorkflowStore, TrackingStore {}
