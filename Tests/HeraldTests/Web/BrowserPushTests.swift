import Foundation
import Herald
import Testing

@Suite("Browser push opt-in in a real browser (headless chromium)")
struct BrowserPushTests {
    @Test(
        "the inbox's opt-in registers Herald's service worker, subscribes with the tenant's VAPID key and registers the device; the worker shows a push; off deletes the device"
    )
    func optIn() async throws {
        let engine = try await TestEngine.make()
        let (tenant, key) = try await engine.createTenant(name: "Maple Court")
        _ = try await engine.upsertSubscriber(
            tenantID: tenant.id, SubscriberInput(id: "reader", name: "Ana Silva", email: "ana@example.com", locale: "en"))
        let (token, _) = try await engine.claims(tenantID: tenant.id, subscriberID: "reader")
        let vapidKey = try await engine.vapidKey(tenantID: tenant.id).publicKeyBase64URL
        let screenshots = Screenshots.directory
        try await engine.withLiveServer { port in
            let script = TestEngine.repositoryRoot.appendingPathComponent("scripts/browser_push_check.py").path
            let run = try await ChildProcess.run(
                python: [script, "--api", "http://localhost:\(port)", "--key", key.key, "--token", token, "--screenshots", screenshots.path],
                timeout: 240)
            #expect(run.status == 0, "\(run.errorOutput)")
            let result = try JSONValue.parse(String(decoding: run.output, as: UTF8.self))

            // The control is there (the page set push-worker, chromium has the Push API), in English and in French.
            #expect(result["control_shown"] == true)
            #expect(result["label_off"] == "Notify me on this device")
            #expect(result["label_on"] == "Notifications on · turn off")
            #expect(result["label_on_french"] == "Notifications activées · désactiver")

            // Permission denied: a short message in the component, and no device.
            #expect(result["denied_message"] == "Notifications are blocked for this site in your browser’s settings.")
            #expect(result["denied_state"] == "off")
            #expect(result["denied_devices"]?.arrayElements.isEmpty == true)

            // Herald's worker: JavaScript, allowed any scope on Herald's origin, revalidated at each update check.
            #expect(result["worker_headers"]?["Content-Type"]?.stringValue?.hasPrefix("text/javascript") == true)
            #expect(result["worker_headers"]?["Service-Worker-Allowed"] == "/")
            #expect(result["worker_headers"]?["Cache-Control"] == "no-cache")
            #expect(result["worker_headers"]?["Cross-Origin-Resource-Policy"] == "cross-origin")

            // The site's one-line /herald-sw.js (importing Herald's /embed/herald-sw.js) is registered and active.
            let registrations = result["registrations"]?.arrayElements ?? []
            #expect(registrations.count == 1, "\(registrations)")
            #expect(registrations.first?["script"]?.stringValue?.hasSuffix("/herald-sw.js") == true)
            #expect(["activated", "activating", "installing"].contains(registrations.first?["state"]?.stringValue ?? ""))

            // PushManager.subscribe was asked for a user-visible subscription with the tenant's VAPID public key
            // (what GET /v1/settings/push shows as effective.vapid_public_key).
            #expect(result["settings_vapid_public_key"]?.stringValue == vapidKey)
            let calls = result["subscribe_calls"]?.arrayElements ?? []
            #expect(calls.count == 1, "\(calls)")
            #expect(calls.first?["userVisibleOnly"] == true)
            #expect(calls.first?["key"]?.stringValue == vapidKey)
            if calls.first?["real"] == false {
                // Offline headless chromium reaches no push service; the recorder then answered with its own subscription.
                print("browser push: the real PushManager.subscribe failed (\(calls.first?["error"]?.stringValue ?? "?")); continued with a recorded one")
            }

            // The subscription was registered as the subscriber's webpush device, and the browser remembers its id.
            let endpoint = calls.first?["endpoint"]?.stringValue
            let devicesOn = result["devices_on"]?.arrayElements ?? []
            #expect(devicesOn.count == 1, "\(devicesOn)")
            #expect(devicesOn.first?["platform"] == "webpush")
            #expect(devicesOn.first?["endpoint"]?.stringValue == endpoint)
            #expect(devicesOn.first?["active"] == true)
            #expect(result["on_message"] == "")
            let stored = result["stored"]?.at(0)
            #expect(stored?.at(0)?.stringValue?.hasSuffix("/reader") == true)
            #expect(stored?.at(1)?["device"] == devicesOn.first?["id"])

            // The worker shows a push as Herald sends it: title, subtitle over the body, tag (renotify), the link and
            // message id for the click, and requireInteraction for a critical type.
            #expect(result["push_delivery"]?["delivered"] == true, "\(String(describing: result["push_delivery"]))")
            #expect(result["push_delivery"]?["worker_errors"]?.arrayElements.isEmpty == true)
            let notification = result["notifications"]?.at(0)
            #expect(result["notifications"]?.arrayElements.count == 1, "\(String(describing: result["notifications"]))")
            #expect(notification?["title"] == "Water off on Friday")
            #expect(notification?["body"] == "Block A\nFrom 10:00 to 11:00.")
            #expect(notification?["tag"] == "water-block-a")
            #expect(notification?["renotify"] == true)
            #expect(notification?["requireInteraction"] == true)
            #expect(notification?["data"]?["url"]?.stringValue?.hasSuffix("/notices/42") == true)
            #expect(notification?["data"]?["message_id"] == "msg_42")
            #expect(notification?["data"]?["data"]?["notice"] == 42)

            // Turning it off deletes the device from Herald and forgets it in the browser (the inbox's CORS preflight
            // allows DELETE, so a host page on another origin can).
            #expect(result["off_state"] == "off", "\(String(describing: result["off_message"]))")
            #expect(result["off_message"] == "")
            #expect(result["label_after_off"] == "Notify me on this device")
            #expect(result["devices_off"]?.arrayElements.isEmpty == true)
            #expect(result["stored_after_off"] == 0)
            #expect(result["state_again"] == "on")
            let consoleErrors = result["console_errors"]?.arrayElements.compactMap(\.stringValue) ?? []
            #expect(consoleErrors.isEmpty, "\(consoleErrors)")

            // After turning it on again, the engine holds exactly the device of the last subscription.
            let lastEndpoint = result["subscribe_calls_final"]?.arrayElements.last?["endpoint"]?.stringValue
            let devices = try await engine.pushDevices(tenantID: tenant.id, subscriberID: "reader")
            #expect(devices.count == 1)
            #expect(devices.first?.platform == .webpush)
            #expect(devices.first?.subscription?.endpoint == lastEndpoint)
            #expect(devices.first?.active == true)

            let shots = result["screenshots"]?.arrayElements.compactMap(\.stringValue) ?? []
            #expect(shots.count == 1)
            Screenshots.expectWidths(shots)
        }
    }
}
