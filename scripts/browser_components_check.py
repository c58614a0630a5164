#!/usr/bin/env python3
"""Drives headless chromium through Herald's embeddable components, on a host page of another origin.

The host page (served here, on 127.0.0.1, with a strict Content Security Policy of its own) includes
Herald's script with one tag and shows <herald-inbox> and <herald-preferences>. The script:

- reads the badge for messages already in the inbox, triggers one more through the API and times how
  long the new message takes to appear and the badge to change (no reload), opens the panel by mouse
  and keyboard, clicks the message and checks the server marked it read, shows a payload with
  <script> and <img onerror> as text, follows the page's language (French), survives a reconnect,
  and marks all read;
- turns email off for one event type in the preference centre, checks the tenant API sees it and the
  next event's email is suppressed with reason `preference`, checks critical types cannot be turned
  off, and sets quiet hours;
- opens the standalone preference page from a signed link and checks its token cannot read the inbox;
- takes screenshots at desktop (1280x800) and phone (390x844) widths when --screenshots is given.

Prints one JSON object with what it saw.
"""
import argparse
import http.server
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

SUBSCRIBER = "reader"
XSS_TITLE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Maple Court residents</title>
<link rel="stylesheet" href="/host.css">
<script src="{api}/embed/herald.js" defer></script>
</head>
<body>
<header class="bar"><strong>Maple Court</strong><span class="grow"></span><span class="who">Ana Silva</span>
<herald-inbox token="{token}"></herald-inbox></header>
<main>{main}</main>
</body></html>
"""

HOME = """<h1>Good morning, Ana</h1><p>Your building at a glance.</p>
<div class="tiles"><div>Parcels waiting: 1</div><div>Next rent due: 1 June</div><div>Open requests: 2</div></div>"""

PREFERENCES = """<h1>Settings</h1><herald-preferences token="{token}"></herald-preferences>"""

HOST_CSS = """
body { margin: 0; font: 15px/1.5 system-ui, sans-serif; background: #f6f7f9; color: #1d2330; }
.bar { display: flex; align-items: center; gap: 12px; padding: 10px 20px; background: #ffffff; border-bottom: 1px solid #e3e6eb; }
.grow { flex: 1; } .who { color: #5b6472; font-size: 14px; }
main { max-width: 820px; margin: 24px auto; padding: 0 16px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; }
.tiles div { background: #ffffff; border: 1px solid #e3e6eb; border-radius: 10px; padding: 16px; }
herald-inbox { --herald-accent: #0f6e5c; --herald-phone-top: 60px; }
herald-preferences { --herald-accent: #0f6e5c; }
"""


def make_handler(api, token):
    origin_of_api = api.rstrip("/")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = urllib.parse.urlparse(self.path).path
            if path == "/host.css":
                body, kind = HOST_CSS.encode(), "text/css"
            else:
                main = PREFERENCES.format(token=token) if path == "/settings" else HOME
                body, kind = PAGE.format(api=origin_of_api, token=token, main=main).encode(), "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            # The host page's own strict policy: no inline script or style, Herald only for script and API calls.
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

    def trigger(self, event_type, payload, to=SUBSCRIBER):
        status, body = self.call("POST", "/v1/events", {"type": event_type, "recipients": [to], "payload": payload})
        assert status == 202, (status, body)
        return body["event_id"]


def wait_for(driver, script, timeout=10.0, *args):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.005)
    raise TimeoutError("page never satisfied: " + script)


def wait_until(condition, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError("condition never held")


INBOX = "document.querySelector('herald-inbox')"
SHADOW = INBOX + ".shadowRoot"
PREFS = "document.querySelector('herald-preferences').shadowRoot"


def viewport(driver, width, height, phone):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2 if phone else 1, "mobile": phone})


def screenshot(driver, directory, name, results):
    if not directory:
        return
    path = os.path.join(directory, name)
    driver.save_screenshot(path)
    results.setdefault("screenshots", []).append(path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--key", required=True, help="tenant API key")
    parser.add_argument("--token", required=True, help="token of subscriber 'reader'")
    parser.add_argument("--preferences-url", required=True, help="signed preference-centre link of 'reader'")
    parser.add_argument("--screenshots", help="folder for PNG screenshots")
    args = parser.parse_args()
    api = API(args.api, args.key)
    results = {}

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(args.api, args.token))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = "http://127.0.0.1:%d" % server.server_address[1]
    api.call("PUT", "/v1/settings/cors", {"allowed_origins": [origin]})

    # Three messages before the page opens, one with an action link.
    api.trigger("comment_reply", {"author_name": "Ben Okafor", "excerpt": "Agreed, the bike shed needs a second rack.",
                                  "thread_url": "https://app.example.com/threads/42"})
    api.trigger("payment_due", {"amount": 950, "currency": "EUR", "due_date": "2026-06-01T00:00:00Z", "unit": "Apt 4B",
                                "invoice_url": "https://app.example.com/invoices/2026-06"})
    api.trigger("announcement_posted", {"title": "Lift maintenance on Tuesday", "excerpt": "Lift B is out of service 9:00 to 12:00."})
    wait_until(lambda: api.call("GET", "/v1/inbox/count", auth=args.token)[1]["unread"] == 3)

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800",
                 "--hide-scrollbars", "--lang=en-US", "--force-prefers-reduced-motion"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        viewport(driver, 1280, 800, False)
        # --- The bell ------------------------------------------------------------------------------------------------
        driver.get(origin + "/")
        wait_for(driver, "return %s && %s.getAttribute('unread') === '3'" % (INBOX, INBOX))
        results["badge_initial"] = driver.execute_script("return %s.querySelector('.badge').textContent" % SHADOW)
        results["bell_label"] = driver.execute_script("return %s.querySelector('.bell').getAttribute('aria-label')" % SHADOW)
        wait_for(driver, "return %s.querySelectorAll('li[data-id]').length === 3" % SHADOW)

        started = time.time() * 1000
        api.trigger("announcement_posted", {"title": "Water off on Friday", "excerpt": "From 10:00 to 11:00 in Block A."})
        arrived = wait_for(driver, """
            const root = %s; const titles = Array.from(root.querySelectorAll('.title')).map(t => t.textContent);
            return titles.some(t => t.includes('Water off on Friday')) && root.querySelector('.badge').textContent === '4' ? Date.now() : null;
        """ % SHADOW, 5)
        results["trigger_to_badge_ms"] = arrived - started
        results["badge_after_trigger"] = driver.execute_script("return %s.querySelector('.badge').textContent" % SHADOW)
        results["reloaded"] = driver.execute_script("return performance.getEntriesByType('navigation').length") != 1

        # Open with the mouse: the panel is a labelled dialog, focus goes to the newest message.
        driver.execute_script("%s.querySelector('.bell').click()" % SHADOW)
        wait_for(driver, "return !%s.querySelector('.panel').hidden" % SHADOW)
        results["panel_role"] = driver.execute_script("return %s.querySelector('.panel').getAttribute('role')" % SHADOW)
        results["expanded_when_open"] = driver.execute_script("return %s.querySelector('.bell').getAttribute('aria-expanded')" % SHADOW)
        results["focus_on_open"] = driver.execute_script(
            "const a = %s.activeElement; return a ? a.className + ':' + a.closest('li').querySelector('.title').textContent : null" % SHADOW)
        # Arrow keys move between messages; Escape closes and gives focus back to the bell.
        results["second_title"] = driver.execute_script("return %s.querySelectorAll('.title')[1].textContent" % SHADOW)
        driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
        results["focus_after_arrow"] = driver.execute_script(
            "const a = %s.activeElement; return a.closest('li') ? a.closest('li').querySelector('.title').textContent : a.className" % SHADOW)
        screenshot(driver, args.screenshots, "inbox-desktop.png", results)
        driver.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait_for(driver, "return %s.querySelector('.panel').hidden" % SHADOW)
        results["focus_after_escape"] = driver.execute_script("return %s.activeElement && %s.activeElement.className" % (SHADOW, SHADOW))
        results["expanded_when_closed"] = driver.execute_script("return %s.querySelector('.bell').getAttribute('aria-expanded')" % SHADOW)
        # The keyboard opens it too.
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        wait_for(driver, "return !%s.querySelector('.panel').hidden" % SHADOW)
        results["keyboard_opens"] = True

        # Clicking the new message marks it read on the server.
        new_id = driver.execute_script("""
            const row = Array.from(%s.querySelectorAll('li[data-id]')).find(r => r.querySelector('.title').textContent.includes('Water off'));
            row.querySelector('.item').click(); return row.dataset.id;""" % SHADOW)
        wait_until(lambda: api.call("GET", "/v1/inbox/count", auth=args.token)[1]["unread"] == 3)
        listed = api.call("GET", "/v1/inbox?filter=all&limit=50", auth=args.token)[1]["data"]
        results["clicked_read_at"] = next(item for item in listed if item["id"] == new_id)["read_at"]
        wait_for(driver, "return %s.querySelector('.badge').textContent === '3'" % SHADOW)
        results["badge_after_click"] = "3"

        # Phone width: the panel spans the screen under the page's header.
        viewport(driver, 390, 844, True)
        driver.execute_script("const a = %s.activeElement; if (a) a.blur();" % SHADOW)
        time.sleep(0.3)
        screenshot(driver, args.screenshots, "inbox-phone.png", results)
        viewport(driver, 1280, 800, False)

        # A payload with markup is text.
        api.trigger("announcement_posted", {"title": XSS_TITLE, "excerpt": '<b>bold?</b> <a href="javascript:alert(1)">x</a>'})
        wait_for(driver, "return Array.from(%s.querySelectorAll('.title')).some(t => t.textContent.includes('__pwned'))" % SHADOW)
        results["xss_title_text"] = driver.execute_script(
            "return Array.from(%s.querySelectorAll('.title')).map(t => t.textContent).find(t => t.includes('__pwned'))" % SHADOW)
        results["xss_elements_in_list"] = driver.execute_script(
            "return %s.querySelectorAll('ul script, ul img, ul b, .body a').length" % SHADOW)
        results["xss_executed"] = driver.execute_script("return window.__pwned === undefined ? null : window.__pwned")

        # The page's language: French labels as soon as <html lang> says fr.
        driver.execute_script("document.documentElement.lang = 'fr'")
        wait_for(driver, "return %s.querySelector('.bell').getAttribute('aria-label').includes('non lue')" % SHADOW)
        results["french"] = driver.execute_script("""
            const r = %s; return {bell: r.querySelector('.bell').getAttribute('aria-label'), heading: r.querySelector('h2').textContent,
                                  read_all: r.querySelector('[part=mark-all-read]').textContent};""" % SHADOW)
        driver.execute_script("document.documentElement.lang = 'en'")

        # The stream is refused once (as after a server restart); the component reconnects and stays live.
        driver.execute_script("const e = %s; e.stream.close(); e.scheduleReconnect();" % INBOX)
        wait_for(driver, "return %s.stream && %s.stream.readyState === 1" % (INBOX, INBOX), 10)
        api.trigger("announcement_posted", {"title": "After reconnect", "excerpt": "Still live."})
        wait_for(driver, "return Array.from(%s.querySelectorAll('.title')).some(t => t.textContent.includes('After reconnect'))" % SHADOW, 5)
        results["live_after_reconnect"] = True

        # Mark all read.
        driver.execute_script("%s.querySelector('[part=mark-all-read]').click()" % SHADOW)
        wait_until(lambda: api.call("GET", "/v1/inbox/count", auth=args.token)[1]["unread"] == 0)
        wait_for(driver, "return %s.querySelector('.badge').hidden" % SHADOW)
        results["unread_after_read_all"] = api.call("GET", "/v1/inbox/count", auth=args.token)[1]["unread"]

        # --- The preference centre -----------------------------------------------------------------------------------
        driver.get(origin + "/settings")
        wait_for(driver, "return %s.querySelector('#switch-announcement_posted-email')" % PREFS)
        email_switch = "%s.querySelector('#switch-announcement_posted-email')" % PREFS
        results["email_before"] = driver.execute_script("return %s.checked" % email_switch)
        results["switch_role"] = driver.execute_script("return %s.getAttribute('role')" % email_switch)
        driver.execute_script("%s.click()" % email_switch)
        wait_for(driver, "return %s.querySelector('.status').textContent === 'Saved'" % PREFS)
        _, preferences = api.call("GET", "/v1/subscribers/%s/preferences" % SUBSCRIBER)
        results["api_effective"] = next(item for item in preferences["effective"]
                                        if item["event_type"] == "announcement_posted" and item["channel"] == "email")
        event_id = api.trigger("announcement_posted", {"title": "Bins collected late", "excerpt": "Thursday this week."})

        def settled():
            status, details = api.call("GET", "/v1/events/" + event_id)
            email = [m for m in details.get("messages", []) if m["channel"] == "email"]
            return email and email[0]["status"] != "queued" and email[0]
        email_message = wait_until(settled)
        results["suppressed"] = {"status": email_message["status"], "reason": email_message["reason"]}

        critical = "%s.querySelector('#switch-emergency_alert-email')" % PREFS
        results["critical"] = driver.execute_script("""
            const s = %s; s.click();
            return {checked: s.checked, disabled: s.disabled, reason: document.querySelector('herald-preferences').shadowRoot
                    .getElementById(s.getAttribute('aria-describedby')).textContent};""" % critical)
        results["critical_put"] = api.call("PUT", "/v1/inbox/preferences",
                                           {"rules": [{"event_type": "emergency_alert", "channel": "email", "enabled": False}]},
                                           auth=args.token)

        # Quiet hours in the subscriber's time zone.
        driver.execute_script("""
            const r = %s; const zone = r.querySelector('#quiet-zone'); zone.value = 'Europe/Paris';
            const on = r.querySelector('#quiet-enabled'); on.click();""" % PREFS)
        wait_for(driver, "return %s.querySelector('.status').textContent === 'Saved'" % PREFS)
        wait_until(lambda: api.call("GET", "/v1/subscribers/" + SUBSCRIBER)[1].get("quiet_hours"))
        subscriber = api.call("GET", "/v1/subscribers/" + SUBSCRIBER)[1]
        results["quiet_hours"] = {"timezone": subscriber.get("timezone"), "quiet_hours": subscriber.get("quiet_hours")}

        driver.execute_script("window.scrollTo(0, 0)")
        screenshot(driver, args.screenshots, "preferences-desktop.png", results)
        viewport(driver, 390, 844, True)
        time.sleep(0.3)
        screenshot(driver, args.screenshots, "preferences-phone.png", results)
        viewport(driver, 1280, 800, False)

        driver.execute_script("document.documentElement.lang = 'fr'")
        wait_for(driver, "return %s.querySelector('h2').textContent === 'Préférences de notification'" % PREFS)
        results["preferences_french"] = driver.execute_script(
            "return %s.querySelector('label[for=\"switch-announcement_posted-email\"]').textContent" % PREFS)

        # --- The standalone page behind a signed link --------------------------------------------------------------
        driver.get(args.preferences_url)
        wait_for(driver, "return %s.querySelector('#switch-newsletter-email')" % PREFS)
        results["standalone_csp"] = True
        driver.execute_script("%s.querySelector('#switch-newsletter-email').click()" % PREFS)
        wait_for(driver, "return %s.querySelector('.status').textContent === 'Saved'" % PREFS)
        driver.execute_script("%s.querySelector('.quiet').scrollIntoView({block: 'end'})" % PREFS)
        screenshot(driver, args.screenshots, "preferences-page-desktop.png", results)
        _, preferences = api.call("GET", "/v1/subscribers/%s/preferences" % SUBSCRIBER)
        results["standalone_effective"] = next(item for item in preferences["effective"]
                                               if item["event_type"] == "newsletter" and item["channel"] == "email")
        results["standalone_inbox_status"] = driver.execute_async_script("""
            const token = document.querySelector('herald-preferences').getAttribute('token');
            const done = arguments[arguments.length - 1];
            fetch('/v1/inbox', {headers: {Authorization: 'Bearer ' + token}}).then(r => done(r.status));""")

        errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        # The deliberate 403 (the inbox refusing the preferences-only token) and favicon misses are expected.
        results["console_errors"] = [e for e in errors if "favicon" not in e and "/v1/inbox " not in e and "403" not in e]
    finally:
        driver.quit()
        server.shutdown()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
