import Foundation
import Herald
import Testing

@Suite("Web components in a real browser (headless chromium)")
struct BrowserComponentsTests {
    @Test(
        "the bell counts, updates live and marks read; the preference centre turns email off, keeps critical types on and sets quiet hours"
    )
    func inboxAndPreferenceCentre() async throws {
        let engine = try await TestEngine.make()
        let (tenant, key) = try await engine.createTenant(name: "Maple Court")
        _ = try await engine.upsertSubscriber(
            tenantID: tenant.id, SubscriberInput(id: "reader", name: "Ana Silva", email: "ana@example.com", locale: "en"))
        let (token, claims) = try await engine.claims(tenantID: tenant.id, subscriberID: "reader")
        let preferencesURL = engine.preferencesURL(tenantID: tenant.id, subscriberID: "reader")
        let screenshots = Screenshots.directory
        try await engine.withLiveServer { port in
            // The signed link names the configured public URL; the test server listens on its own port.
            let link = "http://localhost:\(port)/preferences?" + (URLComponents(string: preferencesURL)?.percentEncodedQuery ?? "")
            let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/browser_components_check.py").path
            let run = try await ChildProcess.run(
                python: [
                    script, "--api", "http://localhost:\(port)", "--key", key.key, "--token", token, "--preferences-url", link,
                    "--screenshots", screenshots.path,
                ], timeout: 240)
            #expect(run.status == 0, "\(run.errorOutput)")
            let result = try JSONValue.parse(String(decoding: run.output, as: UTF8.self))

            // 1. The right count, a live update within a second without a reload, and a click marks read on the server.
            #expect(result["badge_initial"] == "3")
            #expect(result["bell_label"] == "Notifications, 3 unread")
            let latency = result["trigger_to_badge_ms"]?.doubleValue ?? .infinity
            #expect(latency < 1000, "trigger → new message and badge in the page: \(latency) ms")
            print("browser: trigger → badge and message shown (ms):", Int(latency.rounded()))
            #expect(result["badge_after_trigger"] == "4")
            #expect(result["reloaded"] == false)
            #expect(result["clicked_read_at"]?.stringValue != nil)
            #expect(result["badge_after_click"] == "3")
            #expect(result["unread_after_read_all"] == 0)
            #expect(result["live_after_reconnect"] == true)

            // Keyboard and screen reader: a labelled dialog, focus in and back out, arrow keys between messages.
            #expect(result["panel_role"] == "dialog")
            #expect(result["expanded_when_open"] == "true")
            #expect(result["expanded_when_closed"] == "false")
            #expect(result["focus_on_open"] == "item:New announcement: Water off on Friday")
            #expect(result["focus_after_arrow"] == result["second_title"])
            #expect(result["focus_after_escape"] == "bell")
            #expect(result["keyboard_opens"] == true)
            // The page's language.
            #expect(result["french"]?["bell"] == "Notifications, 4 non lues")
            #expect(result["french"]?["read_all"] == "Tout marquer comme lu")
            #expect(result["preferences_french"] == "E-mail")

            // 4. Markup in a payload is text.
            #expect(result["xss_title_text"]?.stringValue?.contains("<script>window.__pwned = 1</script><img src=x") == true)
            #expect(result["xss_elements_in_list"] == 0)
            #expect(result["xss_executed"] == .null)

            // 2. Email off for one type is stored, seen by the tenant API, and suppresses the next email with `preference`.
            #expect(result["email_before"] == true)
            #expect(result["switch_role"] == "switch")
            #expect(result["api_effective"]?["enabled"] == false)
            #expect(result["api_effective"]?["source"] == "subscriber")
            #expect(result["suppressed"]?["status"] == "suppressed")
            #expect(result["suppressed"]?["reason"] == "preference")
            // Critical types stay on, with the reason, and the API refuses to turn them off.
            #expect(result["critical"]?["checked"] == true)
            #expect(result["critical"]?["disabled"] == true)
            #expect(result["critical"]?["reason"]?.stringValue?.contains("Critical notices always reach you") == true)
            #expect(result["critical_put"]?.at(0) == 422)
            #expect(result["critical_put"]?.at(1)?["field"] == "rules[0].enabled")
            // Quiet hours in the subscriber's time zone.
            #expect(result["quiet_hours"]?["timezone"] == "Europe/Paris")
            #expect(result["quiet_hours"]?["quiet_hours"]?["start"] == "22:00")
            #expect(result["quiet_hours"]?["quiet_hours"]?["end"] == "07:00")
            // The standalone page from a signed link works, and its token cannot open the inbox.
            #expect(result["standalone_effective"]?["enabled"] == false)
            #expect(result["standalone_inbox_status"] == 403)
            #expect(result["console_errors"]?.arrayElements.isEmpty == true, "\(String(describing: result["console_errors"]))")

            // 5. Screenshots at both widths.
            let shots = result["screenshots"]?.arrayElements.compactMap(\.stringValue) ?? []
            #expect(shots.count == 5)
            Screenshots.expectWidths(shots)
        }
        // The last event (after mark-all-read) is the preference test's announcement: one unread in-app message.
        #expect(try await engine.inboxCounts(claims).unread == 1)
    }
}
