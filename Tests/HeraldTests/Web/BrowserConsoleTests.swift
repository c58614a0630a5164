import Foundation
import Herald
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

// One chromium at a time: two at once beside the rest of the suite on two cores made page loads outrun the script's waits.
@Suite("Admin console in a real browser (headless chromium)", .serialized)
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

    @Test("a workflow's runs as a timeline per recipient; the workflow editor names the step of a bad condition, previews a draft and saves it")
    func workflow() async throws {
        // Waits as short as a second, so `in_app → wait 5s until read → email` runs its course during the test (5 s leaves
        // the reader room to read in time on a loaded machine).
        let engine = try await TestEngine.make({ $0.dispatch.workflowMinWaitSeconds = 1 }, channels: [ScriptedChannel(kind: .email, script: [])])
        let (tenant, key) = try await engine.createTenant(name: "Harbour Desk")
        var type = EventType(
            key: "issue_escalated", name: "Issue escalated", priority: .medium, channels: [.inApp, .email],
            parameters: ["issue": ParameterSpec(type: .string, required: true), "severity": ParameterSpec(type: .string, required: false)],
            templates: [
                .inApp: ["en": ["title": "Issue {{issue}}", "body": "Issue {{issue}} is yours"]],
                .email: [
                    "en": ["subject": "Issue {{issue}}", "text": "Issue {{issue}} is still unread", "html": "<p>Issue {{issue}} is still unread</p>"]
                ],
            ])
        type.workflow = Workflow(steps: [
            WorkflowStep(.send([.inApp], .all)),
            WorkflowStep(.wait(WaitSpec(duration: "5s", until: .read))),
            WorkflowStep(.send([.email], .all), if: try WorkflowCondition(parsing: "subscriber.email != null")),
        ])
        try await engine.putEventType(tenantID: tenant.id, type)
        for (id, name) in [("reader", "Ana Silva"), ("ignorer", "Ben <b>Okafor</b>")] {
            _ = try await engine.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: id, name: name, email: "\(id)@example.com"))
        }
        try await engine.withLiveServer { port in
            let eventID = try await engine.trigger(
                Trigger(
                    type: "issue_escalated", recipients: [.subscriber("reader"), .subscriber("ignorer")],
                    payload: ["issue": "<img src=x onerror=\"window.__pwned = 6\">"]), tenantID: tenant.id
            ).0.eventId
            let inApp: @Sendable () async throws -> [Message] = {
                try await engine.messages(tenantID: tenant.id, MessageQuery(eventID: eventID, channel: .inApp)).items
            }
            #expect(try await engine.eventually(timeout: 20) { try await inApp().filter { $0.status == .delivered }.count == 2 })
            // The reader opens their in-app message through the inbox API, as their app would, during the wait.
            let message = try #require(try await inApp().first { $0.subscriberId == "reader" })
            let token = try await engine.issueSubscriberToken(tenantID: tenant.id, subscriberID: "reader").token
            var read = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/inbox/\(message.id)/read")!)
            read.httpMethod = "POST"
            read.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (_, answer) = try await URLSession.shared.data(for: read)
            #expect((answer as? HTTPURLResponse)?.statusCode == 200)
            // The other one's wait runs out and they are emailed.
            #expect(
                try await engine.eventually(timeout: 30) {
                    let details = try await engine.eventDetails(tenantID: tenant.id, id: eventID)
                    return details.workflow?.counts["completed"] == 2 && details.messages.contains { $0.channel == .email && $0.status == .sent }
                }, "both runs finish")

            let invalid = #"[{"send": "in_app"}, {"wait": "5s", "until": "read"}, {"send": "email", "if": "payload.severty == 'high'"}]"#
            let valid = #"""
                [{"send": "in_app"}, {"wait": "10m", "until": "read"}, {"send": "email", "if": "payload.severity == 'high' and subscriber.email != null"}]
                """#
            let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/browser_console_check.py").path
            let run = try await ChildProcess.run(
                python: [
                    script, "--api", "http://localhost:\(port)", "--key", key.key, "--workflow-event", eventID, "--workflow-type", "issue_escalated",
                    "--invalid-workflow", invalid, "--valid-workflow", valid, "--screenshots", Screenshots.directory.path,
                ], timeout: 240)
            #expect(run.status == 0, "\(run.errorOutput)")
            let result = try JSONValue.parse(String(decoding: run.output, as: UTF8.self))

            // 1. One timeline per recipient: the reader's escalation skipped because they read during the wait,
            // the other one's email sent; every step with its badge and time, messages linking to their page.
            let runs = result["runs"]?.arrayElements ?? []
            #expect(Set(runs.compactMap { $0["subscriber"]?.stringValue }) == ["reader", "ignorer"])
            let reader = try #require(runs.first { $0["subscriber"] == "reader" })
            #expect(reader["status"] == "completed")
            #expect(reader["outcome"] == "read")
            #expect(reader["steps"]?.arrayElements.compactMap { $0["status"]?.stringValue } == ["done", "done", "skipped"])
            #expect(reader["steps"]?.arrayElements.compactMap { $0["summary"]?.stringValue } == ["send in_app", "wait 5s until read", "send email"])
            #expect(reader["steps"]?.at(2)?["reason"] == "read_before_wait_ended")
            #expect(reader["steps"]?.at(2)?["badge"] == "skipped")
            #expect(reader["steps"]?.at(2)?["messages"]?.arrayElements.isEmpty == true)
            #expect(reader["steps"]?.at(0)?["messages"]?.at(0)?["channel"] == "in_app")
            #expect(reader["steps"]?.at(0)?["messages"]?.at(0)?["href"] == .string("#/messages/\(message.id)"))
            let ignorer = try #require(runs.first { $0["subscriber"] == "ignorer" })
            #expect(ignorer["outcome"] == "finished")
            #expect(ignorer["steps"]?.arrayElements.compactMap { $0["status"]?.stringValue } == ["done", "done", "done"])
            #expect(ignorer["steps"]?.at(1)?["reason"] == "waited")
            #expect(ignorer["steps"]?.at(1)?["has_time"] == true)
            #expect(ignorer["steps"]?.at(2)?["messages"]?.at(0)?["channel"] == "email")
            #expect(ignorer["steps"]?.at(2)?["messages"]?.at(0)?["status"] == "sent")
            #expect(result["run_counts"]?["completed"] == 2)
            #expect(result["event_messages"] == 3)
            #expect(result["filtered_runs"]?.arrayElements == ["reader"])
            #expect(result["message_page"]?.at(0) == .string(eventID))
            #expect(result["message_page"]?.at(3) == "in_app")

            // 2. The editor shows the saved workflow; a condition on a parameter the type does not have is refused,
            // naming the step, by the preview and by the save (which changes nothing).
            #expect(result["workflow_shown"]?.arrayElements.count == 3)
            #expect(result["workflow_shown"]?.at(1)?["wait"] == "5s")
            for name in ["invalid_preview_problems", "invalid_save_problems"] {
                let problem = result[name]?.at(0)
                #expect(problem?["field"] == "workflow[2].if", "\(name): \(String(describing: result[name]))")
                #expect(problem?["text"]?.stringValue?.hasPrefix("Step 3 (send email) · if:") == true, "\(name)")
                #expect(problem?["text"]?.stringValue?.contains("severty") == true, "\(name)")
            }
            #expect(result["invalid_preview_state"] == "problems")
            #expect(result["invalid_marked"] == "true")
            #expect(result["invalid_save_state"] == "refused")
            #expect(result["type_after_refusal"]?.at(1)?["wait"] == "5s")

            // 3. A good draft previews every step for the sample subscriber, then the read path; it is saved and reloads.
            #expect(result["valid_preview_state"] == "previewed")
            #expect(result["valid_preview_problems"]?.arrayElements.isEmpty == true)
            let steps = result["preview_steps"]?.arrayElements ?? []
            #expect(steps.compactMap { $0["status"]?.stringValue } == ["done", "done", "done"], "\(steps)")
            #expect(result["preview_steps"]?.at(2)?["messages"]?.arrayElements == ["email:queued"])
            #expect(result["preview_steps"]?.at(0)?["messages"]?.arrayElements == ["in_app:queued"])
            #expect(result["preview_outcome"] == "finished")
            #expect(result["preview_read_outcome"] == "read")
            #expect(result["preview_read_steps"]?.at(2)?["status"] == "skipped")
            #expect(result["save_state"] == "saved")
            let expected = try JSONValue.parse(valid)
            #expect(result["saved_workflow"] == expected)
            #expect(result["workflow_after_reload"] == expected)
            #expect(try await engine.eventType(tenantID: tenant.id, key: "issue_escalated").workflow?.steps.count == 3)
            #expect(result["xss_executed"] == .null)
            #expect(result["console_errors"]?.arrayElements.isEmpty == true, "\(String(describing: result["console_errors"]))")
            Screenshots.expectWidths(result["screenshots"]?.arrayElements.compactMap(\.stringValue) ?? [])
        }
    }
}
