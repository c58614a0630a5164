#!/usr/bin/env python3
"""Drives headless chromium against Herald's live inbox, from a page on another origin.

Serves a small page on 127.0.0.1 (a different origin from the API, so CORS is exercised), allows that
origin for the tenant, opens the page, then: triggers messages through the API and records when each
appears in the page (EventSource on /v1/inbox/stream); opens a second tab that marks everything read;
and reads the unread badge of the first tab. Prints one JSON object with what it saw.
"""
import argparse
import http.server
import json
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Inbox test page</title></head>
<body>
<p>Unread: <span id="unread">?</span></p>
<button id="read-all" type="button">Mark all read</button>
<ul id="items"></ul>
<script>
const params = new URLSearchParams(location.search);
const api = params.get("api"), token = params.get("token");
window.received = []; window.ready = false; window.readAllStatus = null;
const unread = document.getElementById("unread");
function show(counts) { if (counts) unread.textContent = String(counts.unread); }
const stream = new EventSource(api + "/v1/inbox/stream?token=" + encodeURIComponent(token));
stream.addEventListener("inbox.counts", e => { show(JSON.parse(e.data).counts); window.ready = true; });
stream.addEventListener("message.created", e => {
  const update = JSON.parse(e.data);
  window.received.push({ title: update.message.title, at: Date.now() });
  const li = document.createElement("li"); li.textContent = update.message.title;
  document.getElementById("items").prepend(li);
  show(update.counts);
});
for (const type of ["message.read", "message.archived", "inbox.read_all", "inbox.seen"]) {
  stream.addEventListener(type, e => show(JSON.parse(e.data).counts));
}
document.getElementById("read-all").addEventListener("click", async () => {
  const answer = await fetch(api + "/v1/inbox/read-all", { method: "POST", headers: { Authorization: "Bearer " + token } });
  window.readAllStatus = answer.status;
});
</script>
</body></html>
"""


class PageHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def call(method, url, key, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", "Bearer " + key)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def wait_for(driver, script, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.005)
    raise TimeoutError("page never satisfied: " + script)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--key", required=True, help="tenant API key")
    parser.add_argument("--subscriber", required=True)
    parser.add_argument("--token", required=True, help="the subscriber's token")
    parser.add_argument("--messages", type=int, default=5)
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = "http://127.0.0.1:%d" % server.server_address[1]
    call("PUT", args.api + "/v1/settings/cors", args.key, {"allowed_origins": [origin]})

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    result = {"origin": origin}
    try:
        page = "%s/?api=%s&token=%s" % (origin, urllib.request.quote(args.api, safe=""), urllib.request.quote(args.token, safe=""))
        driver.get(page)
        first = driver.current_window_handle
        wait_for(driver, "return window.ready")
        latencies = []
        for index in range(args.messages):
            title = "Browser message %d" % index
            started = time.time() * 1000
            call("POST", args.api + "/v1/events", args.key, {
                "type": "announcement_posted", "recipients": [{"subscriber_id": args.subscriber}],
                "payload": {"title": title, "excerpt": "x"}})
            arrived = wait_for(driver, "const r = window.received.find(m => m.title.includes(%s)); return r ? r.at : null" % json.dumps(title))
            latencies.append(arrived - started)
        result["latencies_ms"] = latencies
        result["titles"] = driver.execute_script("return window.received.map(m => m.title)")
        result["unread_before"] = driver.find_element(By.ID, "unread").text

        driver.switch_to.new_window("tab")
        driver.get(page)
        wait_for(driver, "return window.ready")
        driver.find_element(By.ID, "read-all").click()
        result["read_all_status"] = wait_for(driver, "return window.readAllStatus")
        driver.switch_to.window(first)
        wait_for(driver, "return document.getElementById('unread').textContent === '0'")
        result["unread_after"] = driver.find_element(By.ID, "unread").text
        result["api_counts"] = call("GET", args.api + "/v1/inbox/count", args.token)
    finally:
        driver.quit()
        server.shutdown()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
