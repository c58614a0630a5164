import Foundation
import Herald
import Hummingbird

/// The tenant's chat webhooks, in failover order. Answers never carry a webhook URL in full: each
/// shows only `https://host/********`, and sending that back keeps the stored URL.
struct ChatSettingsRoutes {
    let engine: HeraldEngine

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("settings/chat") { _, context in
            let settings = try await engine.chatSettings(tenantID: try context.requireTenant().id)
            return JSONResponse.make(settings.redacted)
        }
        group.put("settings/chat") { request, context in
            let input = try await request.decodeJSON(ChatSettings.self, context: context)
            let stored = try await engine.putChatSettings(tenantID: try context.requireTenant().id, input)
            return JSONResponse.make(stored.redacted)
        }
        group.delete("settings/chat") { _, context in
            try await engine.deleteChatSettings(tenantID: try context.requireTenant().id)
            return JSONResponse.noContent()
        }
    }
}
