import Foundation
import Herald
import Testing

@Suite("Admin console in a real browser (headless chromium)")
struct BrowserConsoleTests {
    @Test("sign-in, template editing with a live preview that round-trips, a dead letter retried to delivery, CSRF refusals")
    func console() async throws {
        // A real SMTP server refuses `tempfail…` recipients twice with a 451 (the attempt limit here), then
        // takes them: a dead letter to retry from the console.
        let smtp = try await SMTPTestServer.start(.init(tempfailTimes: 2))
        defer { smtp.stop() }
        let engine = try await TestEngine.make {
            $0.dispatch.maxAttempts = 2
            $0.email.smtp = SMTPServerConfiguration(host: "127.0.0.1", port: smtp.port, security: .none, maxConnections: 1, timeoutSeconds: 10)
            $0.email.fromAddress = "notices@herald.test"
        }
        let (tenant, key) = try await engine.createTenant(name: "Maple <b>Court</b>")
        _ = try await engine.upsertSubscriber(
            tenantID: tenant.id, SubscriberInput(id: "dl", name: "Dee Lane", email: "tempfail-dee@example.com"))
        _ = try await engine.upsertSubscriber(
            tenantID: tenant.id, SubscriberInput(id: "reader", name: "Ana Silva", email: "ana@example.com", timezone: "Europe/Paris"))
        _ = try await engine.upsertTopic(tenantID: tenant.id, key: "block-a", name: "Block A")
        _ = try await engine.addTopicMembers(tenantID: tenant.id, key: "block-a", members: [.subscriber("dl"), .subscriber("reader")])
        var signed = EmailSettings()
        signed.dkim = DKIMSettings(selector: "c1", keys: [DKIMKeySettings(selector: "c1", generate: true)])
        try await engine.putEmailSettings(tenantID: tenant.id, signed)
        try await engine.addSuppression(tenantID: tenant.id, NewSuppression(address: "bounced@example.com", reason: .bounced, detail: "5.1.1 user unknown"))
        try await engine.withLiveServer { port in
            let eventID = try await engine.trigger(
                Trigger(
                    type: "announcement_posted", recipients: [.subscriber("dl")],
                    payload: ["title": "<script>window.__pwned = 5</script>", "excerpt": "Lift B is out of service."]), tenantID: tenant.id
            ).0.eventId
            let deadLetter = try #require(
                try await engine.eventually {
                    try await engine.messages(tenantID: tenant.id, MessageQuery(eventID: eventID, channel: .email)).items.first?.status
                        == .deadLettered
                } ? engine.messages(tenantID: tenant.id, MessageQuery(eventID: eventID, channel: .email)).items.first : nil)

            let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/browser_console_check.py").path
            let run = try await ChildProcess.run(
                python: [
                    script, "--api", "http://localhost:\(port)", "--key", key.key, "--dead-letter", deadLetter.id,
                    "--screenshots", Screenshots.directory.path,
                ], timeout: 240)
            #expect(run.status == 0, "\(run.errorOutput)")
            let result = try JSONValue.parse(String(decoding: run.output, as: UTF8.self))

            // Signed in by a form; the key is in no URL; the cookie is HTTP-only and SameSite=Strict.
            #expect(result["wrong_key_message"] == "That key is unknown or revoked.")
            #expect(result["url_after_sign_in"] == .string("http://localhost:\(port)/console"))
            #expect(result["history_has_key"] == false)
            #expect(result["cookie"]?["httpOnly"] == true)
            #expect(result["cookie"]?["sameSite"] == "Strict")
            #expect(result["cookie"]?["path"] == "/")
            #expect(result["cookie_readable_by_script"] == false)
            #expect(result["overview_cards"]?.arrayElements.contains("Queue depth") == true)
            #expect(result["overview_cards"]?.arrayElements.contains("Delivery rate") == true)

            // 3. The template edit shows in the live preview, is saved, and reads back after a reload and through the API.
            #expect(result["live_preview"] == "Edited: Garden party (sample)")
            #expect(result["saved_title_template"] == "Edited: {{title}} (sample)")
            #expect(result["title_after_reload"] == "Edited: {{title}} (sample)")
            #expect(result["preview_after_reload"] == "Edited: Sample title (sample)", "the saved template, with sample data")
            #expect(result["api_preview_title"] == "Edited: Garden party (sample)")
            #expect(result["frame_sandbox"] == "")
            // A dead letter is listed, retried from the console and then delivered.
            #expect((result["dead_letters_listed"]?.doubleValue ?? 0) >= 1)
            #expect(result["retried"]?["status"] == "sent")
            #expect(result["retried"]?["outcomes"]?.arrayElements.last == "sent")
            #expect(result["attempt_rows"] == 2)
            #expect(result["test_email"]?.stringValue?.contains("250") == true, "\(String(describing: result["test_email"]))")

            // 4. Markup is text in the preview and the activity log, escaped in the email frame, and never runs.
            #expect(result["xss_preview_text"]?.stringValue?.contains("<script>window.__pwned = 3</script>") == true)
            #expect(result["xss_preview_elements"] == 0)
            #expect(result["xss_frame_escaped"] == true)
            #expect(result["xss_executed"] == .null)
            #expect(result["payload_in_detail"]?.stringValue?.contains("<script>window.__pwned = 5</script>") == true)

            // Console actions without the CSRF token are refused with 403 problem+json, and nothing changes.
            #expect(result["csrf_missing_delete"]?.at(0) == 403)
            #expect(result["csrf_missing_delete"]?.at(1) == "application/problem+json")
            #expect(result["csrf_wrong_retry"]?.at(0) == 403)
            #expect(result["csrf_missing_put"]?.stringValue?.contains("X-CSRF-Token") == true)
            #expect(result["csrf_missing_sign_out"] == 403)
            #expect(result["event_type_still_there"] == 200)
            #expect(result["csrf_with_token"] == 200)
            #expect(result["get_with_cookie"] == 200)
            #expect(result["subscriber_page"] == "Ana Silva")
            #expect(result["topics_page"] == "block-a")
            // The email page shows the DNS records to publish and the suppression list, which it edits.
            #expect(result["dns_purposes"]?.arrayElements.compactMap(\.stringValue) == ["dkim", "spf", "dmarc"])
            #expect(result["dns_dkim_name"] == "c1._domainkey.herald.test")
            #expect(result["suppressions_listed"]?.arrayElements == ["bounced@example.com"])
            #expect(result["suppressions_after"]?.arrayElements == ["manual@example.com"])

            // Signing out ends the session.
            #expect(result["cookie_after_sign_out"]?.arrayElements.isEmpty == true)
            #expect(result["api_after_sign_out"] == 401)
            #expect(result["console_errors"]?.arrayElements.isEmpty == true, "\(String(describing: result["console_errors"]))")

            // 5. Screenshots at both widths.
            let shots = result["screenshots"]?.arrayElements.compactMap(\.stringValue) ?? []
            #expect(shots.count == 4)
            Screenshots.expectWidths(shots)
        }
    }
}
