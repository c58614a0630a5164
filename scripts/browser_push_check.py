#!/usr/bin/env python3
"""Drives headless chromium through <herald-inbox>'s "Notify me on this device", on a host page of another origin.

The host page (served here, on 127.0.0.1, with a strict Content Security Policy of its own) includes Herald's
script and serves the one-line service worker a site needs, `/herald-sw.js`, which imports Herald's
`/embed/herald-sw.js`. The inbox has `push-worker="/herald-sw.js"`. The script:

- denies notifications and clicks the control: the component says so, and registers nothing;
- grants notifications, wraps `PushManager.prototype.subscribe` with a recorder (what key, `userVisibleOnly`),
  and clicks again: the worker is registered, `subscribe` is asked for a subscription with the tenant's VAPID
  key, and the subscription is POSTed to `/v1/inbox/devices`. Headless chromium offline has no push service,
  so when the real `subscribe` fails the recorder answers with a subscription of its own (a real P-256 public
  key and a 16-byte auth secret made here), so the rest of the path runs end to end;
- delivers a push to the registered worker through the DevTools protocol (`ServiceWorker.deliverPushMessage`,
  what DevTools' "Push" button does) and reads the notification it shows with `registration.getNotifications()`;
- turns it off (the device is deleted), and on again, leaving one device for the caller to check (when off
  fails, the component says so and the device stays);
- takes a screenshot of the panel with the control on when --screenshots is given.

Also reports the headers Herald serves its worker with. Prints one JSON object with what it saw.
"""
import argparse
import base64
import http.server
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import websocket
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

SUBSCRIBER = "reader"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Maple Court residents</title>
<link rel="stylesheet" href="/host.css">
<script src="{api}/embed/herald.js" defer></script>
</head>
<body>
<header class="bar"><strong>Maple Court</strong><span class="grow"></span><span class="who">Ana Silva</span>
<herald-inbox token="{token}" push-worker="/herald-sw.js"></herald-inbox></header>
<main><h1>Good morning, Ana</h1><p>Your building at a glance.</p></main>
</body></html>
"""

# All a site serves for Herald's push: its own service worker file, one line.
WORKER = 'importScripts("{api}/embed/herald-sw.js");\n'

HOST_CSS = """
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; background: #f6f7f9; color: #1d2330; }
.bar { display: flex; align-items: center; gap: 12px; padding: 10px 20px; background: #ffffff; border-bottom: 1px solid #e3e6eb; }
.grow { flex: 1; } .who { color: #5b6472; font-size: 14px; }
main { max-width: 820px; margin: 24px auto; padding: 0 16px; }
herald-inbox { --herald-accent: #0f6e5c; --herald-phone-top: 60px; }
"""

# Wraps PushManager.prototype.subscribe: records what it is asked for, then calls the real one; when that fails
# (no push service in an offline headless browser) it answers with a subscription made from the given keys.
RECORDER = """
const [p256dh, auth] = arguments;
const base64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer.buffer ? buffer.buffer : buffer)))
  .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
window.__pushCalls = [];
const real = PushManager.prototype.subscribe;
PushManager.prototype.subscribe = async function (options) {
  const call = {userVisibleOnly: options.userVisibleOnly, key: base64url(options.applicationServerKey),
                key_type: Object.prototype.toString.call(options.applicationServerKey)};
  window.__pushCalls.push(call);
  try {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no answer from the push service in 5 s')), 5000));
    const subscription = await Promise.race([real.call(this, options), timeout]);
    call.real = true;
    call.endpoint = subscription.endpoint;
    return subscription;
  } catch (error) {
    call.real = false;
    call.error = String(error);
    const json = {endpoint: 'https://push.example.net/send/device-' + window.__pushCalls.length, expirationTime: null, keys: {p256dh, auth}};
    call.endpoint = json.endpoint;
    return {endpoint: json.endpoint, expirationTime: null, options: {userVisibleOnly: true, applicationServerKey: options.applicationServerKey},
            toJSON: () => json, unsubscribe: async () => true};
  }
};
"""

REGISTRATIONS = """
const done = arguments[arguments.length - 1];
navigator.serviceWorker.getRegistrations().then((registrations) => done(registrations.map((registration) => {
  const worker = registration.active || registration.waiting || registration.installing;
  return {scope: registration.scope, script: worker && worker.scriptURL, state: worker && worker.state};
}))).catch((error) => done({error: String(error)}));
"""

NOTIFICATIONS = """
const done = arguments[arguments.length - 1];
navigator.serviceWorker.getRegistration('/').then((registration) => registration.getNotifications()).then((notifications) => done(
  notifications.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data, requireInteraction: n.requireInteraction,
                             renotify: n.renotify, image: n.image}))
)).catch((error) => done({error: String(error)}));
"""

INBOX = "document.querySelector('herald-inbox')"
SHADOW = INBOX + ".shadowRoot"
TOGGLE = SHADOW + ".querySelector('.push-toggle')"


def make_handler(api, token):
    origin_of_api = api.rstrip("/")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = urllib.parse.urlparse(self.path).path
            if path == "/host.css":
                body, kind = HOST_CSS.encode(), "text/css"
            elif path == "/herald-sw.js":
                body, kind = WORKER.format(api=origin_of_api).encode(), "text/javascript"
            else:
                body, kind = PAGE.format(api=origin_of_api, token=token).encode(), "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if kind.startswith("text/html"):
                # The host page's own strict policy: no inline script or style, Herald only for script and API calls;
                # its service worker comes from its own origin (worker-src falls back to script-src 'self').
                self.send_header("Content-Security-Policy",
                                 "default-src 'self'; script-src 'self' %s; connect-src %s; style-src 'self'; img-src 'self' data:"
                                 % (origin_of_api, origin_of_api))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


class API:
    def __init__(self, base, key):
        self.base, self.key = base.rstrip("/"), key

    def call(self, method, path, body=None, auth=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + (auth or self.key))
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def devices(self):
        status, body = self.call("GET", "/v1/subscribers/%s/devices" % SUBSCRIBER)
        assert status == 200, (status, body)
        return [{"id": d["id"], "platform": d["platform"], "endpoint": d.get("endpoint"), "active": d.get("active")} for d in body["data"]]


def wait_for(driver, script, timeout=10.0, *args):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError("page never satisfied: " + script)


def screenshot(driver, directory, name, results):
    if not directory:
        return
    path = os.path.join(directory, name)
    driver.save_screenshot(path)
    results.setdefault("screenshots", []).append(path)


def base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def subscription_keys():
    """What a browser's push subscription carries: its P-256 public key (uncompressed point) and a 16-byte secret."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64url(point), base64url(os.urandom(16))


def deliver_push(driver, origin, payload):
    """Delivers `payload` to the page origin's service worker through the DevTools protocol, as DevTools' "Push"
    button does: the registration's id comes from the ServiceWorker domain's events on the page's target, and a
    connection to the worker's own target (Runtime enabled) keeps it running and reports what it throws or logs."""
    address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
    with urllib.request.urlopen("http://%s/json/list" % address, timeout=5) as answer:
        targets = json.loads(answer.read())
    page = next(t for t in targets if t.get("type") == "page" and t.get("url", "").startswith(origin))
    worker = next(t for t in targets if t.get("type") == "service_worker" and t.get("url", "").startswith(origin))
    page_socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=10, suppress_origin=True)
    worker_socket = websocket.create_connection(worker["webSocketDebuggerUrl"], timeout=10, suppress_origin=True)
    report = {"worker": worker["url"], "worker_errors": []}
    try:
        worker_socket.send(json.dumps({"id": 1, "method": "Runtime.enable"}))
        page_socket.send(json.dumps({"id": 1, "method": "ServiceWorker.enable"}))
        registration_id, deadline = None, time.time() + 10
        while registration_id is None and time.time() < deadline:
            message = json.loads(page_socket.recv())
            if message.get("method") == "ServiceWorker.workerRegistrationUpdated":
                for registration in message["params"]["registrations"]:
                    if registration["scopeURL"] == origin + "/" and not registration["isDeleted"]:
                        registration_id = registration["registrationId"]
        report["registration_id"] = registration_id
        page_socket.send(json.dumps({"id": 2, "method": "ServiceWorker.deliverPushMessage",
                                     "params": {"origin": origin, "registrationId": registration_id, "data": json.dumps(payload)}}))
        while True:
            message = json.loads(page_socket.recv())
            if message.get("id") == 2:
                report["delivered"] = "result" in message
                report["answer"] = message.get("result", message.get("error"))
                break
        # What the worker throws or logs as an error while it handles the push.
        worker_socket.settimeout(0.2)
        deadline = time.time() + 2
        while time.time() < deadline:
            try:
                message = json.loads(worker_socket.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if message.get("method") == "Runtime.exceptionThrown":
                report["worker_errors"].append(message["params"]["exceptionDetails"].get("text"))
            elif message.get("method") == "Runtime.consoleAPICalled" and message["params"].get("type") == "error":
                report["worker_errors"].append(json.dumps(message["params"].get("args")))
    finally:
        page_socket.close()
        worker_socket.close()
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--key", required=True, help="tenant API key")
    parser.add_argument("--token", required=True, help="token of subscriber 'reader'")
    parser.add_argument("--screenshots", help="folder for PNG screenshots")
    args = parser.parse_args()
    api = API(args.api, args.key)
    results = {}
    p256dh, auth = subscription_keys()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.api, args.token))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = "http://127.0.0.1:%d" % server.server_address[1]
    api.call("PUT", "/v1/settings/cors", {"allowed_origins": [origin]})
    with urllib.request.urlopen(args.api.rstrip("/") + "/embed/herald-sw.js", timeout=10) as answer:
        results["worker_headers"] = {name: answer.headers.get(name) for name in
                                     ("Content-Type", "Service-Worker-Allowed", "Cache-Control", "Cross-Origin-Resource-Policy")}
    results["settings_vapid_public_key"] = api.call("GET", "/v1/settings/push")[1]["effective"]["vapid_public_key"]

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800",
                 "--hide-scrollbars", "--lang=en-US", "--force-prefers-reduced-motion"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
        driver.get(origin + "/")
        wait_for(driver, "return %s && %s.getAttribute('unread') === '0'" % (INBOX, INBOX))
        driver.execute_script("%s.querySelector('.bell').click()" % SHADOW)
        wait_for(driver, "return !%s.querySelector('.panel').hidden" % SHADOW)
        results["control_shown"] = driver.execute_script("return !%s.querySelector('.push').hidden" % SHADOW)
        results["label_off"] = driver.execute_script("return %s.textContent" % TOGGLE)

        # Denied: a short message in the component, nothing registered.
        driver.execute_cdp_cmd("Browser.setPermission", {"permission": {"name": "notifications"}, "setting": "denied", "origin": origin})
        driver.execute_script("%s.click()" % TOGGLE)
        results["denied_message"] = wait_for(driver, "return %s.querySelector('.push-status').textContent" % SHADOW)
        results["denied_state"] = driver.execute_script("return %s.dataset.state" % TOGGLE)
        results["denied_devices"] = api.devices()

        # Granted: the worker is registered, subscribe is asked with the tenant's key, the device is registered.
        driver.execute_cdp_cmd("Browser.resetPermissions", {})
        driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["notifications"], "origin": origin})
        driver.execute_script(RECORDER, p256dh, auth)
        driver.execute_script("%s.click()" % TOGGLE)
        wait_for(driver, "const s = %s.dataset.state; return s === 'on' || (s === 'off' && %s.querySelector('.push-status').textContent)"
                 % (TOGGLE, SHADOW), 30)
        results["label_on"] = driver.execute_script("return %s.textContent" % TOGGLE)
        results["on_message"] = driver.execute_script("return %s.querySelector('.push-status').textContent" % SHADOW)
        results["subscribe_calls"] = driver.execute_script("return window.__pushCalls")
        results["registrations"] = driver.execute_async_script(REGISTRATIONS)
        results["stored"] = driver.execute_script(
            "return Object.keys(localStorage).filter(k => k.startsWith('herald-push:')).map(k => [k, JSON.parse(localStorage.getItem(k))])")
        results["devices_on"] = api.devices()
        driver.execute_script("const a = %s.activeElement; if (a) a.blur();" % SHADOW)
        screenshot(driver, args.screenshots, "inbox-push-desktop.png", results)

        # French labels.
        driver.execute_script("document.documentElement.lang = 'fr'")
        results["label_on_french"] = wait_for(driver, "const t = %s.textContent; return t.includes('activées') ? t : null" % TOGGLE)
        driver.execute_script("document.documentElement.lang = 'en'")
        wait_for(driver, "return %s.textContent.includes('turn off')" % TOGGLE)

        # The worker's push handler: a push as Herald sends it shows a notification.
        push = {"title": "Water off on Friday", "subtitle": "Block A", "body": "From 10:00 to 11:00.", "url": origin + "/notices/42",
                "tag": "water-block-a", "data": {"notice": 42}, "message_id": "msg_42", "event_type": "emergency_alert", "critical": True}
        results["push_delivery"] = deliver_push(driver, origin, push)
        deadline = time.time() + 5
        while time.time() < deadline:
            results["notifications"] = driver.execute_async_script(NOTIFICATIONS)
            if isinstance(results["notifications"], list) and results["notifications"]:
                break
            time.sleep(0.1)

        # Off: the device is deleted from Herald.
        driver.execute_script("%s.click()" % TOGGLE)
        wait_for(driver, "const s = %s.dataset.state; return s === 'off' || (s === 'on' && %s.querySelector('.push-status').textContent)"
                 % (TOGGLE, SHADOW), 15)
        results["off_state"] = driver.execute_script("return %s.dataset.state" % TOGGLE)
        results["off_message"] = driver.execute_script("return %s.querySelector('.push-status').textContent" % SHADOW)
        results["label_after_off"] = driver.execute_script("return %s.textContent" % TOGGLE)
        results["devices_off"] = api.devices()
        results["stored_after_off"] = driver.execute_script(
            "return Object.keys(localStorage).filter(k => k.startsWith('herald-push:')).length")

        # On again (when off worked): the caller checks this device through the engine.
        if results["off_state"] == "off":
            driver.execute_script("%s.click()" % TOGGLE)
            wait_for(driver, "const s = %s.dataset.state; return s === 'on' || (s === 'off' && %s.querySelector('.push-status').textContent)"
                     % (TOGGLE, SHADOW), 30)
            results["state_again"] = driver.execute_script("return %s.dataset.state" % TOGGLE)
        results["subscribe_calls_final"] = driver.execute_script("return window.__pushCalls")

        errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        results["console_errors"] = [e for e in errors if "favicon" not in e]
    finally:
        driver.quit()
        server.shutdown()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
