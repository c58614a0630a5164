import Foundation

/// One event's in-app messages delivered as they are planned: the composer that renders them, and the
/// event as their templates see it. Carried from ``MessagePlanner`` to ``PlanningEvent``, so that once the
/// rows are in, the store can announce what it delivered.
struct InAppPlanning: Sendable {
    var composer: InAppComposer
    var event: EventContext
    /// The time of planning: only messages due by then are delivered now.
    var now: Date
}
