/// The admin console's script, served at `/console/console.js`: a small hash-routed page over the tenant API.
///
/// Kept in Swift so the binary serves it with no files beside it; edit it here.
enum ConsoleScript {
    static let source = #"""
/* Herald admin console. Served at /console/console.js; the page has no inline script (CSP script-src 'self').
   It calls the tenant API (/v1/...) with the session cookie, and every request that changes something
   carries the session's CSRF token in X-CSRF-Token. Every value from the API is set with textContent. */
(() => {
  "use strict";
  const csrfToken = document.querySelector('meta[name="herald-csrf-token"]').content;
  const view = document.getElementById("view");
  const nav = document.getElementById("nav");

  function el(name, attributes = {}, ...children) {
    const element = document.createElement(name);
    for (const [key, value] of Object.entries(attributes)) {
      if (value === false || value === null || value === undefined) continue;
      if (key === "text") element.textContent = value;
      else if (key.startsWith("on") && typeof value === "function") element.addEventListener(key.slice(2), value);
      else element.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      element.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return element;
  }

  class APIError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  /** The tenant API with the session cookie. */
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(path, {
      method, headers, credentials: "same-origin", cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (answer.status === 401) {
      location.assign("/console");
      throw new APIError(401, null);
    }
    const text = await answer.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!answer.ok) throw new APIError(answer.status, json);
    return json;
  }

  function problemText(error) {
    if (error && error.problem && Array.isArray(error.problem.errors) && error.problem.errors.length) {
      return error.problem.errors.map((item) => `${item.field}: ${item.reason}`).join("\n");
    }
    return error && error.message ? error.message : String(error);
  }

  function banner(kind, text) {
    return el("p", { class: `banner ${kind}`, role: kind === "error" ? "alert" : "status", text });
  }

  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });
  const when = (iso) => (iso ? dateFormat.format(new Date(iso)) : "");
  const percent = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)} %`);
  const millis = (value) => (value === null || value === undefined ? "–" : `${Math.round(value)} ms`);
  const statusChip = (status) => el("span", { class: `chip status-${status}`, text: status.replace(/_/g, " ") });

  function table(headings, rows, options = {}) {
    return el("div", { class: "table-wrap" },
      el("table", { class: options.class || "" },
        options.caption ? el("caption", { class: "sr-only", text: options.caption }) : null,
        el("thead", {}, el("tr", {}, headings.map((heading) => el("th", { scope: "col", text: heading })))),
        el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: headings.length, class: "empty", text: options.empty || "Nothing here yet." })))));
  }

  function setTitle(text) {
    document.title = `${text} · Herald console`;
  }

  let refreshTimer = null;

  // --- Overview -------------------------------------------------------------------------------------------------
  async function overview() {
    setTitle("Overview");
    const root = el("section", { "aria-labelledby": "page-title" }, el("h1", { id: "page-title", text: "Overview" }));
    const cards = el("div", { class: "cards" });
    const details = el("div", { class: "split" });
    root.append(el("p", { class: "muted", text: "Queue now, delivery over the last 24 hours; refreshed every 5 seconds." }), cards, details);
    view.replaceChildren(root);
    const load = async () => {
      try {
        const [stats, recent, ready] = await Promise.all([api("GET", "/v1/stats?window=24h"), api("GET", "/v1/stats?window=15m"),
          fetch("/readyz", { cache: "no-store" }).then((r) => r.json())]);
        const perMinute = (recent.totals.sent / 15).toFixed(recent.totals.sent >= 150 ? 0 : 1);
        const queue = ready.queue || { by_priority: {}, fanout_jobs: 0 };
        const queued = Object.values(queue.by_priority || {}).reduce((sum, value) => sum + value, 0);
        const totals = stats.totals;
        const card = (label, value, hint, id) => el("div", { class: "card", id }, el("div", { class: "card-label", text: label }),
          el("div", { class: "card-value", text: String(value) }), hint ? el("div", { class: "card-hint", text: hint }) : null);
        cards.replaceChildren(
          card("Queue depth", queued, `fan-out jobs: ${queue.fanout_jobs}`, "queue-depth"),
          card("Delivery rate", `${perMinute} / min`, `last 15 minutes · ${recent.totals.failed} failed`, "delivery-rate"),
          card("Sent", totals.sent, `success ${percent(totals.success_rate)}`, "sent"),
          card("Failed", totals.failed, "failed and dead-lettered", "failed"),
          card("Suppressed", totals.suppressed, "preferences, unsubscribes…"),
          card("Pending", totals.pending, "queued or sending"),
          card("Latency p50 / p95", `${millis(stats.latency_ms.p50)} / ${millis(stats.latency_ms.p95)}`, `${stats.latency_ms.samples} samples`));
        const priorities = ["critical", "high", "medium", "low"];
        const channels = Object.entries(stats.by_channel).sort();
        details.replaceChildren(
          el("div", {}, el("h2", { text: "Queue by priority" }),
            table(["Priority", "Waiting"], priorities.map((name) => el("tr", {}, el("td", { text: name }), el("td", { class: "number", text: String((queue.by_priority || {})[name] || 0) }))))),
          el("div", {}, el("h2", { text: "Delivery by channel" }),
            table(["Channel", "Sent", "Failed", "Suppressed", "Success"], channels.map(([name, counts]) => el("tr", {},
              el("td", { text: name }), el("td", { class: "number", text: String(counts.sent) }), el("td", { class: "number", text: String(counts.failed) }),
              el("td", { class: "number", text: String(counts.suppressed) }), el("td", { class: "number", text: percent(counts.success_rate) }))),
            { empty: "No messages in the last 24 hours." })));
      } catch (error) {
        cards.replaceChildren(banner("error", problemText(error)));
      }
    };
    await load();
    refreshTimer = setInterval(load, 5000);
  }

  // --- Event types ----------------------------------------------------------------------------------------------
  async function eventTypes() {
    setTitle("Event types");
    const list = await api("GET", "/v1/event-types");
    const rows = list.data.map((type) => el("tr", {},
      el("td", {}, el("a", { href: `#/event-types/${encodeURIComponent(type.key)}`, text: type.name || type.key })),
      el("td", {}, el("code", { text: type.key })),
      el("td", { text: type.category || "" }),
      el("td", {}, el("span", { class: `chip priority-${type.priority}`, text: type.priority })),
      el("td", { text: type.channels.join(", ") })));
    view.replaceChildren(el("section", {}, el("h1", { text: "Event types" }),
      el("p", { class: "muted", text: "Pick an event type to edit its templates, preview them with sample data, and send a test." }),
      table(["Name", "Key", "Category", "Priority", "Channels"], rows)));
  }

  const PARTS = {
    in_app: ["title", "body", "action_url"], email: ["subject", "html", "text"], sms: ["text"], chat: ["text"], webhook: ["body"],
    push: ["title", "body", "subtitle", "badge", "sound", "image", "url", "data", "thread", "collapse"],
  };

  async function eventTypeEditor(key) {
    setTitle(key);
    const original = await api("GET", `/v1/event-types/${encodeURIComponent(key)}`);
    const draft = JSON.parse(JSON.stringify(original));
    let channel = draft.channels[0];
    const locales = () => Array.from(new Set(Object.values(draft.templates).flatMap((byLocale) => Object.keys(byLocale)))).sort();
    let locale = locales()[0] || "en";

    const channelSelect = el("select", { id: "channel" }, draft.channels.map((name) => el("option", { value: name, text: name })));
    const localeSelect = el("select", { id: "locale" });
    const fields = el("div", { class: "fields" });
    const payloadArea = el("textarea", { id: "payload", rows: 6, spellcheck: "false", class: "code" });
    const status = el("div", { class: "status", role: "status", "aria-live": "polite" });
    const preview = el("div", { class: "preview", id: "preview", "aria-live": "polite" });
    const frameName = "email-preview";
    const frame = el("iframe", { name: frameName, id: "email-frame", title: "Email preview", sandbox: "", referrerpolicy: "no-referrer" });
    const frameForm = el("form", { method: "post", action: "/console/preview", target: frameName, hidden: true },
      el("input", { type: "hidden", name: "csrf_token", value: csrfToken }),
      el("input", { type: "hidden", name: "key", value: key }),
      el("input", { type: "hidden", name: "event_type" }),
      el("input", { type: "hidden", name: "payload" }),
      el("input", { type: "hidden", name: "locale" }));
    const testAddress = el("input", { type: "email", id: "test-to", placeholder: "you@example.com", autocomplete: "email" });
    const testResult = el("pre", { class: "transcript", id: "test-result", hidden: true });

    function fillLocales() {
      const known = locales();
      if (!known.includes(locale)) known.push(locale);
      localeSelect.replaceChildren(...known.sort().map((name) => el("option", { value: name, text: name, selected: name === locale })));
    }

    function fillFields() {
      const parts = PARTS[channel] || [];
      const current = ((draft.templates[channel] || {})[locale]) || {};
      fields.replaceChildren(...parts.map((part) => {
        const id = `part-${part}`;
        const area = el("textarea", { id, rows: part === "html" ? 8 : part === "body" || part === "text" ? 4 : 2, spellcheck: "false", class: "code", "data-part": part });
        area.value = current[part] || "";
        return el("div", { class: "field" }, el("label", { for: id, text: part }), area);
      }));
    }

    function readFields() {
      const parts = {};
      for (const area of fields.querySelectorAll("textarea[data-part]")) if (area.value !== "") parts[area.dataset.part] = area.value;
      draft.templates[channel] = draft.templates[channel] || {};
      if (Object.keys(parts).length) draft.templates[channel][locale] = parts;
      else delete draft.templates[channel][locale];
    }

    function payload() {
      const text = payloadArea.value.trim();
      if (!text) return {};
      const value = JSON.parse(text);
      if (typeof value !== "object" || Array.isArray(value) || value === null) throw new Error("sample data must be a JSON object");
      return value;
    }

    let previewTimer = null;
    let previewGeneration = 0;
    async function renderPreview() {
      const generation = ++previewGeneration;
      let sample;
      try {
        sample = payload();
      } catch (error) {
        status.replaceChildren(banner("error", `Sample data: ${error.message}`));
        return;
      }
      try {
        const result = await api("POST", `/v1/event-types/${encodeURIComponent(key)}/preview`, { event_type: draft, payload: sample, locale });
        if (generation !== previewGeneration) return;
        if (!payloadArea.value.trim()) payloadArea.value = JSON.stringify(result.payload, null, 2);
        const blocks = [];
        for (const name of draft.channels) {
          const rendered = result.channels[name];
          if (!rendered) continue;
          const block = el("div", { class: "preview-channel", "data-channel": name }, el("h3", {}, name, el("span", { class: "muted", text: ` · ${rendered.locale}` })));
          const order = PARTS[name] || [];
          const parts = Object.entries(rendered.parts).sort(([a], [b]) => (order.indexOf(a) + 99 * (order.indexOf(a) < 0)) - (order.indexOf(b) + 99 * (order.indexOf(b) < 0)));
          for (const [part, value] of parts) {
            if (name === "email" && part === "html") continue;
            block.append(el("div", { class: "part-name", text: part }), el("div", { class: `part-value part-${part}`, "data-part": `${name}.${part}`, text: value }));
          }
          if (name === "email") block.append(el("div", { class: "part-name", text: "html (rendered, sandboxed)" }), frame);
          blocks.push(block);
        }
        preview.replaceChildren(...blocks);
        status.replaceChildren();
        if (draft.channels.includes("email")) {
          frameForm.elements.event_type.value = JSON.stringify(draft);
          frameForm.elements.payload.value = JSON.stringify(sample);
          frameForm.elements.locale.value = locale;
          frameForm.submit();
        }
      } catch (error) {
        if (generation !== previewGeneration) return;
        status.replaceChildren(banner("error", problemText(error)));
      }
    }

    function schedulePreview() {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(renderPreview, 250);
    }

    channelSelect.addEventListener("change", () => { readFields(); channel = channelSelect.value; fillFields(); });
    localeSelect.addEventListener("change", () => { readFields(); locale = localeSelect.value; fillFields(); schedulePreview(); });
    fields.addEventListener("input", () => { readFields(); schedulePreview(); });
    payloadArea.addEventListener("input", schedulePreview);

    const addLocale = el("button", { type: "button", class: "secondary", text: "Add locale", onclick: () => {
      const name = prompt("Locale (BCP 47 tag, e.g. fr or de-CH)");
      if (!name) return;
      readFields();
      locale = name.trim();
      fillLocales();
      fillFields();
    } });

    const save = el("button", { type: "button", id: "save", text: "Save", onclick: async () => {
      readFields();
      status.replaceChildren(banner("info", "Saving…"));
      try {
        const saved = await api("PUT", `/v1/event-types/${encodeURIComponent(key)}`, draft);
        Object.assign(original, saved);
        status.replaceChildren(banner("ok", "Saved. New events of this type use these templates."));
      } catch (error) {
        status.replaceChildren(banner("error", problemText(error)));
      }
    } });

    const sendTest = el("button", { type: "button", class: "secondary", id: "send-test", text: "Send test email", onclick: async () => {
      testResult.hidden = true;
      try {
        const result = await api("POST", `/v1/event-types/${encodeURIComponent(key)}/test`, { to: testAddress.value, payload: payload(), locale });
        testResult.textContent = `${result.outcome.replace(/_/g, " ")} via ${result.transport}: ${result.detail}\n\n${(result.transcript || []).join("\n")}`;
        testResult.hidden = false;
      } catch (error) {
        testResult.textContent = problemText(error);
        testResult.hidden = false;
      }
    } });

    fillLocales();
    fillFields();
    const editor = el("div", { class: "editor" },
      el("div", { class: "row" },
        el("div", { class: "field" }, el("label", { for: "channel", text: "Channel" }), channelSelect),
        el("div", { class: "field" }, el("label", { for: "locale", text: "Locale" }), localeSelect),
        addLocale),
      fields,
      el("div", { class: "field" }, el("label", { for: "payload", text: "Sample data (JSON)" }), payloadArea),
      el("div", { class: "row" }, save, el("a", { href: "#/event-types", class: "button secondary", text: "Back" })),
      status,
      el("div", { class: "test" }, el("h2", { text: "Send a test" }),
        el("div", { class: "row" }, el("div", { class: "field grow" }, el("label", { for: "test-to", text: "Email address" }), testAddress), sendTest),
        testResult));
    const meta = el("p", { class: "muted" }, `${original.key} · ${original.priority} · ${original.channels.join(", ")}`);
    view.replaceChildren(el("section", {},
      el("h1", { text: original.name || original.key }), meta,
      el("div", { class: "split editor-split" }, editor, el("div", {}, el("h2", { text: "Live preview" }), preview)),
      frameForm));
    renderPreview();
  }

  // --- Activity log and dead letters --------------------------------------------------------------------------------
  const STATUSES = ["", "queued", "sending", "sent", "delivered", "failed", "dead_lettered", "suppressed", "cancelled"];
  const CHANNELS = ["", "in_app", "email", "sms", "webhook", "chat", "push"];

  async function activity(params, deadLetters) {
    setTitle(deadLetters ? "Dead letters" : "Activity");
    const filters = { status: deadLetters ? "dead_lettered" : params.get("status") || "", channel: params.get("channel") || "",
      subscriber: params.get("subscriber") || "", event: params.get("event") || "" };
    const select = (name, values) => el("select", { id: `filter-${name}`, name }, values.map((value) =>
      el("option", { value, text: value ? value.replace(/_/g, " ") : "any", selected: filters[name] === value })));
    const form = el("form", { class: "filters row", role: "search" },
      deadLetters ? null : el("div", { class: "field" }, el("label", { for: "filter-status", text: "Status" }), select("status", STATUSES)),
      el("div", { class: "field" }, el("label", { for: "filter-channel", text: "Channel" }), select("channel", CHANNELS)),
      el("div", { class: "field" }, el("label", { for: "filter-subscriber", text: "Subscriber" }),
        el("input", { id: "filter-subscriber", name: "subscriber", value: filters.subscriber })),
      el("div", { class: "field" }, el("label", { for: "filter-event", text: "Event id" }), el("input", { id: "filter-event", name: "event", value: filters.event })),
      el("button", { type: "submit", text: "Filter" }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const query = new URLSearchParams();
      for (const [name, value] of new FormData(form)) if (value) query.set(name, value);
      location.hash = `#/${deadLetters ? "dead-letters" : "activity"}?${query}`;
    });
    const body = el("tbody");
    const more = el("button", { type: "button", class: "secondary", hidden: true, text: "Load more" });
    const status = el("div", { class: "status", role: "status", "aria-live": "polite" });
    const detail = el("div", { class: "detail", id: "detail" });
    const headings = ["Created", "Event type", "Subscriber", "Channel", "Status", "Reason", "Attempts", ""];
    const tableElement = el("div", { class: "table-wrap" }, el("table", { id: "messages" },
      el("thead", {}, el("tr", {}, headings.map((heading) => el("th", { scope: "col", text: heading })))), body));
    let cursor = null;

    async function retry(message, button) {
      button.disabled = true;
      try {
        const updated = await api("POST", `/v1/messages/${encodeURIComponent(message.id)}/retry`);
        status.replaceChildren(banner("ok", `${message.id} queued again (${updated.status}).`));
        button.textContent = "Queued";
      } catch (error) {
        status.replaceChildren(banner("error", problemText(error)));
        button.disabled = false;
      }
    }

    function row(message) {
      const retryable = message.status === "failed" || message.status === "dead_lettered";
      const open = el("button", { type: "button", class: "link", text: "Details", "aria-label": `Details of ${message.id}` });
      open.addEventListener("click", () => showDetail(message.id));
      const actions = el("td", { class: "actions" }, open);
      if (retryable) {
        const button = el("button", { type: "button", class: "small retry", "data-id": message.id, text: "Retry" });
        button.addEventListener("click", () => retry(message, button));
        actions.append(button);
      }
      return el("tr", { "data-id": message.id },
        el("td", { text: when(message.created_at) }), el("td", { text: message.event_type }), el("td", { text: message.subscriber_id }),
        el("td", { text: message.channel }), el("td", {}, statusChip(message.status)), el("td", { class: "reason", text: message.reason || message.last_error || "" }),
        el("td", { class: "number", text: String(message.attempts) }), actions);
    }

    async function showDetail(id) {
      detail.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
      try {
        const message = await api("GET", `/v1/messages/${encodeURIComponent(id)}`);
        const event = await api("GET", `/v1/events/${encodeURIComponent(message.event_id)}?limit=1`).catch(() => null);
        const attempts = (message.attempt_log || []).map((attempt) => el("tr", {},
          el("td", { class: "number", text: String(attempt.number) }), el("td", { text: when(attempt.started_at) }),
          el("td", { text: attempt.outcome.replace(/_/g, " ") }), el("td", { class: "number", text: millis(attempt.duration_ms) }),
          el("td", { class: "reason", text: attempt.detail || "" })));
        const close = el("button", { type: "button", class: "secondary small", text: "Close", onclick: () => detail.replaceChildren() });
        detail.replaceChildren(el("h2", { tabindex: "-1", id: "detail-heading" }, `Message ${message.id}`), close,
          el("dl", { class: "facts" }, [
            ["Event", message.event_id], ["Type", message.event_type], ["Subscriber", message.subscriber_id], ["Channel", message.channel],
            ["Status", message.status], ["Reason", message.reason || "–"], ["Last error", message.last_error || "–"], ["Updated", when(message.updated_at)],
          ].map(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })])),
          el("h3", { text: "Attempts" }), table(["#", "Started", "Outcome", "Duration", "Detail"], attempts, { empty: "No attempts yet." }),
          event ? el("h3", { text: "Event payload" }) : null,
          event ? el("pre", { class: "code payload", id: "detail-payload", text: JSON.stringify(event.payload, null, 2) }) : null);
        document.getElementById("detail-heading").focus();
      } catch (error) {
        detail.replaceChildren(banner("error", problemText(error)));
      }
    }

    async function load() {
      const query = new URLSearchParams({ limit: "50" });
      for (const [name, value] of Object.entries(filters)) if (value) query.set(name, value);
      if (cursor) query.set("cursor", cursor);
      try {
        const page = await api("GET", `/v1/messages?${query}`);
        body.append(...page.data.map(row));
        if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: headings.length, class: "empty", text: deadLetters ? "No dead letters." : "No messages match." })));
        cursor = page.next_cursor || null;
        more.hidden = !cursor;
      } catch (error) {
        status.replaceChildren(banner("error", problemText(error)));
      }
    }
    more.addEventListener("click", load);
    view.replaceChildren(el("section", {}, el("h1", { text: deadLetters ? "Dead letters" : "Activity" }),
      el("p", { class: "muted", text: deadLetters ? "Messages whose transient failures used up every attempt. Retry requeues one with a fresh attempt budget." : "Every message, newest first, with its attempts." }),
      form, status, tableElement, more, detail));
    await load();
  }

  // --- Subscribers and topics -----------------------------------------------------------------------------------
  async function subscribers() {
    setTitle("Subscribers");
    const body = el("tbody");
    const more = el("button", { type: "button", class: "secondary", hidden: true, text: "Load more" });
    let cursor = null;
    async function load() {
      const page = await api("GET", `/v1/subscribers?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      body.append(...page.data.map((subscriber) => el("tr", {},
        el("td", {}, el("a", { href: `#/subscribers/${encodeURIComponent(subscriber.id)}`, text: subscriber.id })),
        el("td", { text: subscriber.name || "" }), el("td", { text: subscriber.email || "" }), el("td", { text: subscriber.locale || "" }),
        el("td", { text: subscriber.timezone || "" }),
        el("td", { text: subscriber.quiet_hours ? `${subscriber.quiet_hours.start}–${subscriber.quiet_hours.end}` : "" }))));
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
    }
    more.addEventListener("click", load);
    view.replaceChildren(el("section", {}, el("h1", { text: "Subscribers" }),
      el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, ["Id", "Name", "Email", "Locale", "Time zone", "Quiet hours"].map((heading) =>
        el("th", { scope: "col", text: heading })))), body)), more));
    await load();
  }

  async function subscriber(id) {
    setTitle(id);
    const [person, preferences] = await Promise.all([
      api("GET", `/v1/subscribers/${encodeURIComponent(id)}`), api("GET", `/v1/subscribers/${encodeURIComponent(id)}/preferences`)]);
    const rows = preferences.effective.map((item) => el("tr", {}, el("td", { text: item.event_type }), el("td", { text: item.channel }),
      el("td", {}, el("span", { class: `chip ${item.enabled ? "on" : "off"}`, text: item.enabled ? "on" : "off" })), el("td", { text: item.source.replace(/_/g, " ") })));
    view.replaceChildren(el("section", {}, el("h1", { text: person.name || person.id }),
      el("dl", { class: "facts" }, [["Id", person.id], ["Email", person.email || "–"], ["Phone", person.phone || "–"], ["Locale", person.locale || "–"],
        ["Time zone", person.timezone || "–"], ["Quiet hours", person.quiet_hours ? `${person.quiet_hours.start}–${person.quiet_hours.end}` : "none"],
        ["Created", when(person.created_at)]].map(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })])),
      el("p", {}, el("a", { href: `#/activity?subscriber=${encodeURIComponent(person.id)}`, text: "Messages to this subscriber" })),
      el("h2", { text: "Effective preferences" }), table(["Event type", "Channel", "State", "Decided by"], rows)));
  }

  async function topics() {
    setTitle("Topics");
    const page = await api("GET", "/v1/topics?limit=200");
    const rows = page.data.map((topic) => el("tr", {},
      el("td", {}, el("a", { href: `#/topics/${encodeURIComponent(topic.key)}`, text: topic.key })), el("td", { text: topic.name || "" }),
      el("td", { class: "number", text: String(topic.member_count ?? "") })));
    view.replaceChildren(el("section", {}, el("h1", { text: "Topics" }), table(["Key", "Name", "Members"], rows, { empty: "No topics yet." })));
  }

  async function topic(key) {
    setTitle(key);
    const [info, members] = await Promise.all([api("GET", `/v1/topics/${encodeURIComponent(key)}`),
      api("GET", `/v1/topics/${encodeURIComponent(key)}/subscribers?limit=200`)]);
    const rows = members.data.map((id) => el("tr", {}, el("td", {}, el("a", { href: `#/subscribers/${encodeURIComponent(id)}`, text: id }))));
    view.replaceChildren(el("section", {}, el("h1", { text: info.name || info.key }), el("p", { class: "muted" }, el("code", { text: info.key })),
      table(["Member"], rows, { empty: "No members." })));
  }

  // --- Email: DNS records and the suppression list ---------------------------------------------------------------
  async function email() {
    setTitle("Email");
    const dns = await api("GET", "/v1/settings/email/dns");
    const records = dns.records.map((record) => el("tr", { "data-purpose": record.purpose },
      el("td", { text: record.purpose.replace(/_/g, " ") }), el("td", {}, el("code", { text: record.name })), el("td", { text: record.type }),
      el("td", {}, el("code", { class: "wrap", text: record.value })), el("td", { class: "muted", text: record.note || "" })));
    const body = el("tbody", { id: "suppressions" });
    const more = el("button", { type: "button", class: "secondary", hidden: true, text: "Load more" });
    const status = el("div", { "aria-live": "polite" });
    let cursor = null;
    function row(entry) {
      const lift = el("button", { type: "button", class: "secondary", text: "Lift" });
      const line = el("tr", { "data-address": entry.address }, el("td", { text: entry.address }), el("td", {}, statusChip(entry.reason)),
        el("td", { text: entry.detail || "" }),
        el("td", {}, entry.message_id ? el("a", { href: `#/activity?message=${encodeURIComponent(entry.message_id)}`, text: entry.message_id }) : "–"),
        el("td", { text: when(entry.created_at) }), el("td", {}, lift));
      lift.addEventListener("click", async () => {
        lift.disabled = true;
        try {
          await api("DELETE", `/v1/suppressions/${encodeURIComponent(entry.address)}`);
          line.remove();
          status.replaceChildren(banner("ok", `${entry.address} lifted: the next email to it goes out.`));
        } catch (error) {
          lift.disabled = false;
          status.replaceChildren(banner("error", problemText(error)));
        }
      });
      return line;
    }
    async function load() {
      const page = await api("GET", `/v1/suppressions?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      body.append(...page.data.map(row));
      if (!body.children.length) body.append(el("tr", { class: "none" }, el("td", { colspan: 6, class: "empty", text: "No suppressed addresses." })));
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
    }
    more.addEventListener("click", load);
    const address = el("input", { type: "email", id: "suppress-address", required: true, autocomplete: "off" });
    const form = el("form", { class: "inline" }, el("label", { for: "suppress-address", text: "Suppress an address" }), address,
      el("button", { type: "submit", text: "Add" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const entry = await api("POST", "/v1/suppressions", { address: address.value });
        for (const empty of body.querySelectorAll("tr.none")) empty.remove();
        body.prepend(row(entry));
        address.value = "";
        status.replaceChildren(banner("ok", `${entry.address} suppressed.`));
      } catch (error) {
        status.replaceChildren(banner("error", problemText(error)));
      }
    });
    view.replaceChildren(el("section", {}, el("h1", { text: "Email" }),
      el("h2", { text: "DNS records to publish" }),
      el("p", { class: "muted", text: `For ${dns.from_domain}${dns.return_path_domain ? `; bounces return to ${dns.return_path_domain}` : ""}.` }),
      table(["Purpose", "Name", "Type", "Value", "Note"], records, { class: "dns" }),
      el("h2", { text: "Suppression list" }), form, status,
      el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, ["Address", "Reason", "Detail", "Message", "Since", ""].map((heading) =>
        el("th", { scope: "col", text: heading })))), body)), more));
    await load();
  }

  // --- Router ---------------------------------------------------------------------------------------------------
  const routes = [
    [/^#?\/?$/, () => overview(), "overview"],
    [/^#\/event-types$/, () => eventTypes(), "event-types"],
    [/^#\/event-types\/(.+)$/, (match) => eventTypeEditor(decodeURIComponent(match[1])), "event-types"],
    [/^#\/activity(?:\?(.*))?$/, (match) => activity(new URLSearchParams(match[1] || ""), false), "activity"],
    [/^#\/dead-letters(?:\?(.*))?$/, (match) => activity(new URLSearchParams(match[1] || ""), true), "dead-letters"],
    [/^#\/subscribers$/, () => subscribers(), "subscribers"],
    [/^#\/subscribers\/(.+)$/, (match) => subscriber(decodeURIComponent(match[1])), "subscribers"],
    [/^#\/topics$/, () => topics(), "topics"],
    [/^#\/topics\/(.+)$/, (match) => topic(decodeURIComponent(match[1])), "topics"],
    [/^#\/email$/, () => email(), "email"],
  ];

  async function route() {
    clearInterval(refreshTimer);
    refreshTimer = null;
    const hash = location.hash || "#/";
    for (const [pattern, show, section] of routes) {
      const match = hash.match(pattern);
      if (!match) continue;
      for (const link of nav.querySelectorAll("a")) {
        if (link.dataset.section === section) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      }
      view.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
      try {
        await show(match);
      } catch (error) {
        view.replaceChildren(banner("error", problemText(error)));
      }
      document.body.dataset.ready = hash;
      return;
    }
    view.replaceChildren(banner("error", "There is no such page."));
  }

  window.addEventListener("hashchange", () => { route(); view.focus({ preventScroll: true }); });
  route();
})();
"""#
}
