import Herald
import Hummingbird

/// A subscriber's in-app inbox, authenticated by a subscriber token: a token reads and changes its own
/// subscriber's inbox only; another subscriber's message id is simply not found. Reading needs the
/// `inboxRead` scope and changing `inboxWrite`, which only full subscriber tokens grant.
struct InboxRoutes {
    let engine: HeraldEngine

    /// The inbox page and its counts.
    func registerReads(on group: RouterGroup<HeraldRequestContext>) {
        group.get("") { request, context in
            let filter = try request.enumQuery("filter", InboxFilter.self) ?? request.enumQuery("status", InboxFilter.self) ?? .active
            let page = try await engine.inbox(
                try context.requireSubscriber(), filter: filter, cursor: request.uri.queryParameters.get("cursor"),
                limit: try request.intQuery("limit", default: 20, range: 1...100))
            return JSONResponse.make(page)
        }
        group.get("count") { _, context in
            JSONResponse.make(try await engine.inboxCounts(try context.requireSubscriber()))
        }
    }

    /// Read, click, archive, read-all and seen.
    func registerChanges(on group: RouterGroup<HeraldRequestContext>) {
        group.post("read-all") { _, context in
            JSONResponse.make(try await engine.markAllRead(try context.requireSubscriber()))
        }
        group.post("seen") { _, context in
            JSONResponse.make(try await engine.markAllSeen(try context.requireSubscriber()))
        }
        group.post("{id}/read") { _, context in
            JSONResponse.make(try await engine.markRead(try context.requireSubscriber(), messageID: try context.pathID("id")))
        }
        // The subscriber followed the item's link: a click (and a read), which a workflow can wait for.
        group.post("{id}/click") { _, context in
            JSONResponse.make(try await engine.markClicked(try context.requireSubscriber(), messageID: try context.pathID("id")))
        }
        group.post("{id}/archive") { _, context in
            JSONResponse.make(try await engine.archive(try context.requireSubscriber(), messageID: try context.pathID("id")))
        }
    }
}
