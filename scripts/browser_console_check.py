#!/usr/bin/env python3
"""Drives headless chromium through Herald's admin console at /console.

Signs in with the tenant key through the form (and checks the key never reaches a URL and the session
cookie is HTTP-only and SameSite=Strict), edits an event type's in-app template and watches the live
preview follow, saves it and reads it back through the API and after a reload, previews a payload
holding <script> (text in the preview, escaped in the sandboxed email frame, never run), shows the
activity log and a message's attempts, retries a dead-lettered message until it is delivered, sends
state-changing requests without (and with a wrong) CSRF token and checks they are refused with 403,
and signs out. Screenshots at desktop (1280x800) and phone (390x844) widths with --screenshots.

With --workflow-event (and --workflow-type) it checks workflows instead: the event's runs as a timeline per
recipient (filtered by subscriber, a message followed to its page), then the event type's workflow editor: a
draft with a bad condition shows the problem naming its step (in the preview and when saving), a good draft
previews its steps (also assuming the in-app message is read) and is saved, and reads back after a reload.

Prints one JSON object with what it saw.
"""
import argparse
import json
import os
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

EVENT_TYPE = "announcement_posted"
XSS_PAYLOAD = {"title": "<script>window.__pwned = 3</script>", "excerpt": "<img src=x onerror=\"window.__pwned = 4\">"}


def call(base, key, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + key)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for(driver, script, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.02)
    raise TimeoutError("page never satisfied: " + script)


def wait_until(condition, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError("condition never held")


def viewport(driver, width, height, phone):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2 if phone else 1, "mobile": phone})


def fetch_status(driver, method, path, headers=None, body=None):
    """A request from the console page itself, with its cookie: the status and the problem type."""
    return driver.execute_async_script("""
        const [method, path, headers, body, done] = arguments;
        fetch(path, {method, headers, body, credentials: 'same-origin'})
          .then(async r => done([r.status, r.headers.get('content-type'), await r.text()]))
          .catch(e => done([0, null, String(e)]));""", method, path, headers or {}, body)


def set_value(driver, selector, value):
    driver.execute_script("""
        const element = document.querySelector(arguments[0]); element.value = arguments[1];
        element.dispatchEvent(new Event('input', {bubbles: true}));""", selector, value)

RUNS_SCRIPT = """
    return Array.from(document.querySelectorAll('#runs .run')).map(run => ({
      subscriber: run.dataset.subscriber, status: run.dataset.status, outcome: run.dataset.outcome || null,
      steps: Array.from(run.querySelectorAll('.timeline > li')).map(step => ({
        summary: step.querySelector('.step-summary').textContent, status: step.dataset.status, reason: step.dataset.reason || null,
        badge: step.querySelector('.step-head .chip').textContent, has_time: !!step.querySelector('.step-time time'),
        messages: Array.from(step.querySelectorAll('.step-messages li')).map(m => ({
          channel: m.dataset.channel, status: m.dataset.status, href: m.querySelector('a') ? m.querySelector('a').getAttribute('href') : null}))}))}));"""

PREVIEW_SCRIPT = """
    return Array.from(document.querySelectorAll('#workflow-preview .timeline > li')).map(step => ({
      summary: step.querySelector('.step-summary').textContent, status: step.dataset.status, reason: step.dataset.reason || null,
      messages: Array.from(step.querySelectorAll('.step-messages li')).map(m => m.dataset.channel + ':' + m.dataset.status)}));"""

PROBLEMS_SCRIPT = """
    return Array.from(document.querySelectorAll('#workflow-problems li')).map(li => ({field: li.dataset.field, text: li.textContent}));"""


def editor_action(driver, button):
    """Clicks Preview or Save in the workflow editor and waits for its answer; returns the editor's state."""
    driver.execute_script("document.getElementById(arguments[0]).click()", button)
    return wait_for(driver, "const s = document.getElementById('workflow-editor').dataset.state; return s !== 'busy' ? s : null;")


def check_workflow(driver, base, args, results, screenshot):
    # --- The event's runs: a timeline per recipient -------------------------------------------------------------
    driver.get(base + "/console#/events/" + args.workflow_event)
    wait_for(driver, "return document.querySelectorAll('#runs .run').length >= 2")
    results["runs"] = driver.execute_script(RUNS_SCRIPT)
    results["run_counts"] = driver.execute_script(
        "return Object.fromEntries(Array.from(document.querySelectorAll('#run-counts [data-count]')).map(c => [c.dataset.count, Number(c.querySelector('.card-value').textContent)]))")
    results["event_messages"] = driver.execute_script("return document.querySelectorAll('table tbody tr[data-id]').length")
    driver.execute_script("document.getElementById('runs-heading').scrollIntoView()")
    time.sleep(0.4)
    screenshot("console-workflow-desktop.png")

    # One recipient's run, by the subscriber filter; its in-app message opens the message page.
    set_value(driver, "#run-subscriber", "reader")
    driver.execute_script("document.querySelector('#run-filter button[type=submit]').click()")
    wait_for(driver, "const r = document.getElementById('runs'); return r.dataset.filter === 'reader' && r.querySelectorAll('.run').length === 1")
    results["filtered_runs"] = [run["subscriber"] for run in driver.execute_script(RUNS_SCRIPT)]
    driver.execute_script("document.querySelector('#runs .step-messages li[data-channel=in_app] a').click()")
    wait_for(driver, "return document.querySelector('#detail .facts')")
    results["message_page"] = driver.execute_script(
        "return Array.from(document.querySelectorAll('#detail .facts dd')).map(d => d.textContent)")

    # --- The workflow editor --------------------------------------------------------------------------------------
    driver.get(base + "/console#/event-types/" + args.workflow_type)
    wait_for(driver, "return document.getElementById('workflow-editor')")
    results["workflow_shown"] = json.loads(driver.execute_script("return document.getElementById('workflow').value"))

    # A condition naming a field the type does not have: the preview and the save both name the step.
    set_value(driver, "#workflow", args.invalid_workflow)
    results["invalid_preview_state"] = editor_action(driver, "workflow-preview-button")
    results["invalid_preview_problems"] = driver.execute_script(PROBLEMS_SCRIPT)
    results["invalid_marked"] = driver.execute_script("return document.getElementById('workflow').getAttribute('aria-invalid')")
    results["invalid_save_state"] = editor_action(driver, "workflow-save")
    results["invalid_save_problems"] = driver.execute_script(PROBLEMS_SCRIPT)
    results["type_after_refusal"] = call(base, args.key, "GET", "/v1/event-types/" + args.workflow_type)[1].get("workflow")

    # A good draft, for a sample subscriber with an email address: every step, the email planned.
    # Laid out as the editor shows a saved workflow: one step a line.
    set_value(driver, "#workflow", "[\n" + ",\n".join("  " + json.dumps(step) for step in json.loads(args.valid_workflow)) + "\n]")
    set_value(driver, "#workflow-payload", json.dumps({"issue": "HR-9", "severity": "high"}))
    set_value(driver, "#workflow-email", "sample@example.com")
    results["valid_preview_state"] = editor_action(driver, "workflow-preview-button")
    results["valid_preview_problems"] = driver.execute_script(PROBLEMS_SCRIPT)
    results["preview_steps"] = driver.execute_script(PREVIEW_SCRIPT)
    results["preview_outcome"] = driver.execute_script("return document.querySelector('#workflow-outcome strong').textContent")
    # The same, assuming the in-app message is read during the wait.
    driver.execute_script("document.getElementById('workflow-assume-read').click()")
    editor_action(driver, "workflow-preview-button")
    results["preview_read_steps"] = driver.execute_script(PREVIEW_SCRIPT)
    results["preview_read_outcome"] = driver.execute_script("return document.querySelector('#workflow-outcome strong').textContent")
    driver.execute_script("document.getElementById('workflow-assume-read').click()")
    editor_action(driver, "workflow-preview-button")
    driver.execute_script("document.getElementById('workflow-editor').scrollIntoView()")
    time.sleep(0.4)
    screenshot("console-workflow-editor-desktop.png")

    results["save_state"] = editor_action(driver, "workflow-save")
    results["save_banner"] = driver.execute_script("const b = document.querySelector('#workflow-status .banner'); return b ? b.textContent : null")
    results["saved_workflow"] = call(base, args.key, "GET", "/v1/event-types/" + args.workflow_type)[1].get("workflow")
    driver.refresh()
    wait_for(driver, "return document.getElementById('workflow-editor')")
    results["workflow_after_reload"] = json.loads(driver.execute_script("return document.getElementById('workflow').value"))
    results["xss_executed"] = driver.execute_script("return window.__pwned === undefined ? null : window.__pwned")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--key", required=True, help="tenant API key")
    parser.add_argument("--dead-letter", help="id of a dead-lettered message to retry")
    parser.add_argument("--workflow-event", help="id of an event whose type has a workflow: check the timeline and the editor")
    parser.add_argument("--workflow-type", help="that event's type")
    parser.add_argument("--invalid-workflow", help="a draft workflow (JSON) the editor must refuse")
    parser.add_argument("--valid-workflow", help="a draft workflow (JSON) to preview and save")
    parser.add_argument("--screenshots", help="folder for PNG screenshots")
    args = parser.parse_args()
    if not args.workflow_event and not args.dead_letter:
        parser.error("give --dead-letter, or --workflow-event with --workflow-type")
    base = args.api.rstrip("/")
    results = {"screenshots": []}

    def screenshot(name):
        if args.screenshots:
            path = os.path.join(args.screenshots, name)
            driver.save_screenshot(path)
            results["screenshots"].append(path)

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800",
                 "--hide-scrollbars", "--lang=en-US"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        viewport(driver, 1280, 800, False)
        # --- Sign in ---------------------------------------------------------------------------------------------------
        driver.get(base + "/console")
        driver.find_element(By.ID, "key").send_keys("hk_not_a_real_key")
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        # The refusal is a new page from the server; on a loaded machine it can come after click() returns.
        results["wrong_key_message"] = wait_for(
            driver, "const e = document.getElementById('sign-in-error'); return e ? e.textContent : null", timeout=30)
        driver.find_element(By.ID, "key").send_keys(args.key)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        wait_for(driver, "return document.body.dataset.ready")
        results["url_after_sign_in"] = driver.current_url
        cookies = [c for c in driver.get_cookies() if "herald_console" in c["name"]]
        results["cookie"] = {"httpOnly": cookies[0]["httpOnly"], "sameSite": cookies[0].get("sameSite"), "path": cookies[0]["path"]} if cookies else None
        results["cookie_readable_by_script"] = "herald_console" in driver.execute_script("return document.cookie")
        results["history_has_key"] = args.key in driver.execute_script("return location.href + document.referrer")
        if args.workflow_event:
            check_workflow(driver, base, args, results, screenshot)
            return

        # --- Overview ----------------------------------------------------------------------------------------------
        wait_for(driver, "return document.getElementById('queue-depth')")
        results["overview_cards"] = driver.execute_script("return Array.from(document.querySelectorAll('.card-label')).map(e => e.textContent)")

        viewport(driver, 390, 844, True)
        time.sleep(0.4)
        screenshot("console-phone.png")
        viewport(driver, 1280, 800, False)

        # --- Template editing with live preview --------------------------------------------------------------------
        driver.get(base + "/console#/event-types/" + EVENT_TYPE)
        wait_for(driver, "return document.querySelector('[data-part=\"in_app.title\"]')")
        set_value(driver, "#payload", json.dumps({"title": "Garden party", "excerpt": "Saturday at four, in the courtyard."}, indent=2))
        set_value(driver, "#part-title", "Edited: {{title}} (sample)")
        results["live_preview"] = wait_for(driver, """
            const e = document.querySelector('[data-part="in_app.title"]');
            return e && e.textContent.startsWith('Edited:') ? e.textContent : null;""")
        # The email frame shows the rendered email, sandboxed.
        results["frame_sandbox"] = driver.execute_script("return document.getElementById('email-frame').getAttribute('sandbox')")
        driver.find_element(By.ID, "save").click()
        wait_for(driver, "return document.querySelector('.banner.ok')")
        _, saved = call(base, args.key, "GET", "/v1/event-types/" + EVENT_TYPE)
        results["saved_title_template"] = saved["templates"]["in_app"]["en"]["title"]
        time.sleep(0.6)
        screenshot("console-desktop.png")

        driver.refresh()
        wait_for(driver, "return document.querySelector('[data-part=\"in_app.title\"]')")
        results["title_after_reload"] = driver.execute_script("return document.getElementById('part-title').value")
        results["preview_after_reload"] = wait_for(driver, """
            const e = document.querySelector('[data-part="in_app.title"]'); return e && e.textContent.startsWith('Edited:') ? e.textContent : null;""")
        _, preview = call(base, args.key, "POST", "/v1/event-types/%s/preview" % EVENT_TYPE, {"payload": {"title": "Garden party", "excerpt": "x"}})
        results["api_preview_title"] = preview["channels"]["in_app"]["parts"]["title"]

        # A payload with markup: text in the preview, escaped in the email frame, never run.
        set_value(driver, "#payload", json.dumps(XSS_PAYLOAD))
        results["xss_preview_text"] = wait_for(driver, """
            const e = document.querySelector('[data-part="in_app.title"]'); return e && e.textContent.includes('__pwned') ? e.textContent : null;""")
        results["xss_preview_elements"] = driver.execute_script("return document.querySelectorAll('#preview script, #preview img').length")
        time.sleep(0.8)
        driver.switch_to.frame(driver.find_element(By.ID, "email-frame"))
        frame_source = driver.page_source
        results["xss_frame_escaped"] = "&lt;img src=x onerror" in frame_source and "<img src=\"x\"" not in frame_source
        driver.switch_to.default_content()
        results["xss_executed"] = driver.execute_script("return window.__pwned === undefined ? null : window.__pwned")

        # Send a test email through the tenant's real SMTP server; the transcript comes back.
        driver.find_element(By.ID, "test-to").send_keys("ok-test@example.com")
        driver.find_element(By.ID, "send-test").click()
        results["test_email"] = wait_for(driver, """
            const e = document.getElementById('test-result'); return e && !e.hidden ? e.textContent : null;""", 20)

        # --- Activity log and a message's attempts -------------------------------------------------------------------
        driver.get(base + "/console#/activity?subscriber=dl")
        wait_for(driver, "return document.querySelector('#messages tbody tr[data-id]')")
        driver.execute_script("document.querySelector('#messages tbody tr[data-id] button.link').click()")
        wait_for(driver, "return document.querySelector('#detail .facts')")
        results["attempt_rows"] = driver.execute_script("return document.querySelectorAll('#detail tbody tr').length")
        results["payload_in_detail"] = driver.execute_script("return document.getElementById('detail-payload').textContent")

        # --- Dead letters --------------------------------------------------------------------------------------------
        driver.get(base + "/console#/dead-letters")
        wait_for(driver, "return document.querySelector('button.retry[data-id=\"%s\"]')" % args.dead_letter)
        results["dead_letters_listed"] = driver.execute_script("return document.querySelectorAll('#messages tbody tr[data-id]').length")
        screenshot("console-dead-letters-desktop.png")
        driver.execute_script("document.querySelector('button.retry[data-id=\"%s\"]').click()" % args.dead_letter)
        wait_for(driver, "return document.querySelector('.banner.ok')")
        delivered = wait_until(lambda: (lambda m: m if m["status"] in ("sent", "delivered") else None)(
            call(base, args.key, "GET", "/v1/messages/" + args.dead_letter)[1]))
        results["retried"] = {"status": delivered["status"], "attempts": delivered["attempts"],
                              "outcomes": [a["outcome"] for a in delivered["attempt_log"]]}

        # --- Subscribers and topics render ---------------------------------------------------------------------------
        driver.get(base + "/console#/subscribers/reader")
        wait_for(driver, "return document.querySelector('.facts')")
        results["subscriber_page"] = driver.execute_script("return document.querySelector('h1').textContent")
        driver.get(base + "/console#/topics")
        wait_for(driver, "return document.body.dataset.ready === '#/topics'")
        results["topics_page"] = driver.execute_script("return document.querySelector('tbody td a') ? document.querySelector('tbody td a').textContent : ''")

        # --- Email: DNS records and the suppression list ------------------------------------------------------------
        driver.get(base + "/console#/email")
        wait_for(driver, "return document.body.dataset.ready === '#/email' && document.querySelector('#suppressions tr[data-address]')")
        results["dns_purposes"] = driver.execute_script(
            "return Array.from(document.querySelectorAll('table.dns tbody tr')).map(r => r.dataset.purpose)")
        results["dns_dkim_name"] = driver.execute_script(
            "const r = document.querySelector('table.dns tr[data-purpose=dkim] code'); return r ? r.textContent : null")
        results["suppressions_listed"] = driver.execute_script(
            "return Array.from(document.querySelectorAll('#suppressions tr[data-address]')).map(r => r.dataset.address)")
        screenshot("console-email-desktop.png")
        set_value(driver, "#suppress-address", "manual@example.com")
        driver.execute_script("document.querySelector('form.inline button[type=submit]').click()")
        wait_for(driver, "return document.querySelector('#suppressions tr[data-address=\"manual@example.com\"]')")
        driver.execute_script("document.querySelector('#suppressions tr[data-address=\"bounced@example.com\"] button').click()")
        wait_for(driver, "return !document.querySelector('#suppressions tr[data-address=\"bounced@example.com\"]')")
        results["suppressions_after"] = [entry["address"] for entry in call(base, args.key, "GET", "/v1/suppressions")[1]["data"]]

        # --- CSRF ---------------------------------------------------------------------------------------------------
        token = driver.execute_script("return document.querySelector('meta[name=herald-csrf-token]').content")
        results["csrf_missing_delete"] = fetch_status(driver, "DELETE", "/v1/event-types/" + EVENT_TYPE)[:2]
        results["csrf_wrong_retry"] = fetch_status(driver, "POST", "/v1/messages/%s/retry" % args.dead_letter, {"X-CSRF-Token": "wrong"})[:2]
        results["csrf_missing_put"] = fetch_status(driver, "PUT", "/v1/event-types/" + EVENT_TYPE, {"Content-Type": "application/json"},
                                                   json.dumps(saved))[2]
        results["csrf_missing_sign_out"] = fetch_status(driver, "POST", "/console/sign-out")[0]
        results["event_type_still_there"] = call(base, args.key, "GET", "/v1/event-types/" + EVENT_TYPE)[0]
        results["csrf_with_token"] = fetch_status(driver, "PUT", "/v1/event-types/" + EVENT_TYPE,
                                                  {"Content-Type": "application/json", "X-CSRF-Token": token}, json.dumps(saved))[0]
        results["get_with_cookie"] = fetch_status(driver, "GET", "/v1/stats")[0]

        # --- Sign out -----------------------------------------------------------------------------------------------
        driver.get(base + "/console")
        wait_for(driver, "return document.body.dataset.ready")
        driver.find_element(By.CSS_SELECTOR, ".topbar form button").click()
        wait_for(driver, "return document.getElementById('key')")
        results["cookie_after_sign_out"] = [c["name"] for c in driver.get_cookies() if "herald_console" in c["name"]]
        results["api_after_sign_out"] = fetch_status(driver, "GET", "/v1/stats")[0]

    finally:
        errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        # Refused requests (403, 401; 422 for the bad workflow) are logged by the browser as failed loads; anything else is a fault.
        results["console_errors"] = [e for e in errors if not any(s in e for s in ("403", "401", "422", "favicon", "sign-in"))]
        driver.quit()
        print(json.dumps(results))


if __name__ == "__main__":
    main()
