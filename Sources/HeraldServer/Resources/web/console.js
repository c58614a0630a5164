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
    for (const child of children.flat(Infinity)) {
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
  const timeOfDay = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });
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
      el("td", { text: type.channels.join(", ") }),
      el("td", { text: type.workflow ? `${type.workflow.length} step${type.workflow.length === 1 ? "" : "s"}` : "–" })));
    view.replaceChildren(el("section", {}, el("h1", { text: "Event types" }),
      el("p", { class: "muted", text: "Pick an event type to edit its templates and workflow, preview them with sample data, and send a test." }),
      table(["Name", "Key", "Category", "Priority", "Channels", "Workflow"], rows)));
  }

  const PARTS = {
    in_app: ["title", "body", "action_url"], email: ["subject", "html", "text"], sms: ["text"], chat: ["text"], webhook: ["body"],
    push: ["title", "body", "subtitle", "badge", "sound", "image", "url", "data", "thread", "collapse"],
  };

  // --- Workflow editor ------------------------------------------------------------------------------------------
  /** A workflow as the editor shows it: JSON, one step a line. */
  function workflowText(steps) {
    if (!Array.isArray(steps) || !steps.length) return "";
    const step = (value) => `{ ${Object.entries(value).map(([name, item]) => `${JSON.stringify(name)}: ${JSON.stringify(item)}`).join(", ")} }`;
    return `[\n${steps.map((value) => `  ${step(value)}`).join(",\n")}\n]`;
  }

  /** `workflow[2].if` as people read it: `Step 3 (send email) · if`. */
  function workflowFieldLabel(field, steps) {
    const match = /^(?:event_type\.)?workflow\[(\d+)\](?:\.(.+))?$/.exec(field || "");
    if (!match) return field === "workflow" ? "Workflow" : field || "Workflow";
    const index = Number(match[1]);
    const step = Array.isArray(steps) ? steps[index] : null;
    const kind = step && typeof step === "object" ? ["send", "wait", "wait_until", "digest"].find((name) => name in step) : null;
    const summary = kind ? ` (${kind.replace("_", " ")} ${typeof step[kind] === "object" ? JSON.stringify(step[kind]) : step[kind]})` : "";
    return `Step ${index + 1}${summary}${match[2] ? ` · ${match[2]}` : ""}`;
  }

  /**
   * The event type's workflow as editable JSON, checked and previewed by the server for a sample payload
   * and subscriber (POST …/workflow/preview), and saved with the rest of the type (PUT). `original` is the
   * type as last saved; `draft` the template editor's copy, kept in step with a saved workflow.
   */
  function workflowEditor(key, original, draft, templatePayload) {
    const area = el("textarea", { id: "workflow", rows: 8, spellcheck: "false", class: "code", "aria-describedby": "workflow-hint workflow-problems" });
    area.value = workflowText(original.workflow);
    const problems = el("ul", { class: "problems", id: "workflow-problems", hidden: true });
    const payloadArea = el("textarea", { id: "workflow-payload", rows: 3, spellcheck: "false", class: "code", placeholder: "Empty: the sample data of the templates above" });
    const subscriberID = el("input", { id: "workflow-subscriber-id", autocomplete: "off", spellcheck: "false", placeholder: "a stored subscriber" });
    const email = el("input", { id: "workflow-email", type: "email", autocomplete: "off", placeholder: "none" });
    const phone = el("input", { id: "workflow-phone", type: "tel", autocomplete: "off", placeholder: "none" });
    const timezone = el("input", { id: "workflow-timezone", autocomplete: "off", placeholder: "UTC" });
    const assumeRead = el("input", { id: "workflow-assume-read", type: "checkbox" });
    const status = el("div", { role: "status", "aria-live": "polite", id: "workflow-status" });
    const result = el("div", { class: "workflow-preview", id: "workflow-preview", "aria-live": "polite" },
      el("p", { class: "muted", text: "Preview shows which steps the sample would take: every wait runs its course unless “assume read” is ticked." }));
    const root = el("section", { class: "workflow-editor", id: "workflow-editor", "aria-labelledby": "workflow-heading" });

    function setState(state) { root.dataset.state = state; }

    /** The draft's steps, or null for no workflow; throws when the text is not a JSON list of objects. */
    function steps() {
      const text = area.value.trim();
      if (!text) return null;
      let value;
      try { value = JSON.parse(text); } catch (error) { throw new Error(`not valid JSON: ${error.message}`); }
      if (!Array.isArray(value) || value.some((step) => typeof step !== "object" || step === null || Array.isArray(step))) {
        throw new Error("must be a JSON list of steps, like [{\"send\": \"in_app\"}, {\"wait\": \"15m\", \"until\": \"read\"}]");
      }
      return value;
    }

    function samplePayload() {
      const text = payloadArea.value.trim();
      if (!text) return templatePayload();
      const value = JSON.parse(text);
      if (typeof value !== "object" || Array.isArray(value) || value === null) throw new Error("sample payload must be a JSON object");
      return value;
    }

    function sampleSubscriber() {
      const id = subscriberID.value.trim();
      if (id) return { subscriber_id: id };
      const subscriber = { id: "sample" };
      if (email.value.trim()) subscriber.email = email.value.trim();
      if (phone.value.trim()) subscriber.phone = phone.value.trim();
      if (timezone.value.trim()) subscriber.timezone = timezone.value.trim();
      return { subscriber };
    }

    function showProblems(list, draftSteps) {
      problems.replaceChildren(...list.map((problem) => el("li", { "data-field": problem.field || "" },
        el("strong", { text: `${workflowFieldLabel(problem.field, draftSteps)}:` }), " ", problem.reason)));
      problems.hidden = !list.length;
      if (list.length) area.setAttribute("aria-invalid", "true");
      else area.removeAttribute("aria-invalid");
    }

    async function preview() {
      setState("busy");
      status.replaceChildren();
      let draftSteps;
      let body;
      try {
        draftSteps = steps();
        body = { payload: samplePayload(), assume_read: assumeRead.checked, ...sampleSubscriber() };
      } catch (error) {
        showProblems([{ field: "workflow", reason: error.message }], null);
        setState("problems");
        return;
      }
      if (!draftSteps) {
        showProblems([], null);
        result.replaceChildren(banner("info", "No workflow: events of this type send on all their channels at once."));
        setState("empty");
        return;
      }
      body.workflow = draftSteps;
      try {
        const answer = await api("POST", `/v1/event-types/${encodeURIComponent(key)}/workflow/preview`, body);
        showProblems(answer.problems || [], draftSteps);
        if ((answer.problems || []).length) {
          result.replaceChildren();
          setState("problems");
          return;
        }
        result.replaceChildren(
          el("p", { class: "outcome", id: "workflow-outcome" }, "Outcome: ", el("strong", { text: words(answer.outcome || "unfinished") })),
          timeline(answer.steps, { links: false }));
        setState("previewed");
      } catch (error) {
        if (error.problem && Array.isArray(error.problem.errors) && error.problem.errors.length) {
          showProblems(error.problem.errors, draftSteps);
          result.replaceChildren();
          setState("problems");
        } else {
          status.replaceChildren(banner("error", problemText(error)));
          setState("error");
        }
      }
    }

    async function save() {
      setState("busy");
      status.replaceChildren(banner("info", "Saving…"));
      let draftSteps;
      try {
        draftSteps = steps();
      } catch (error) {
        showProblems([{ field: "workflow", reason: error.message }], null);
        status.replaceChildren(banner("error", "Not saved: the workflow is not valid JSON."));
        setState("refused");
        return;
      }
      const body = JSON.parse(JSON.stringify(original));
      if (draftSteps) body.workflow = draftSteps;
      else delete body.workflow;
      try {
        const saved = await api("PUT", `/v1/event-types/${encodeURIComponent(key)}`, body);
        for (const copy of [original, draft]) {
          if (saved.workflow) copy.workflow = saved.workflow;
          else delete copy.workflow;
        }
        area.value = workflowText(saved.workflow);
        showProblems([], null);
        status.replaceChildren(banner("ok", saved.workflow ? "Workflow saved: new events of this type follow it." : "Workflow removed: new events send on every channel at once."));
        setState("saved");
      } catch (error) {
        const errors = error.problem && Array.isArray(error.problem.errors) ? error.problem.errors : [];
        showProblems(errors, draftSteps);
        status.replaceChildren(banner("error", errors.length ? "Not saved: fix the problems listed under the workflow." : problemText(error)));
        setState("refused");
      }
    }

    const field = (id, label, input, extra = "") => el("div", { class: `field ${extra}` }, el("label", { for: id, text: label }), input);
    root.append(
      el("h2", { id: "workflow-heading", text: "Workflow" }),
      el("p", { class: "muted", id: "workflow-hint" },
        "Steps as a JSON list: ", el("code", { text: "{\"send\": \"email\"}" }), ", ", el("code", { text: "{\"wait\": \"15m\", \"until\": \"read\"}" }), ", ",
        el("code", { text: "{\"wait_until\": \"09:00\"}" }), ", ", el("code", { text: "{\"digest\": {\"window\": \"1h\"}}" }),
        "; any step may add ", el("code", { text: "\"if\": \"subscriber.email != null\"" }), ". Leave it empty to send on every channel at once."),
      el("div", { class: "split editor-split" },
        el("div", { class: "editor" },
          field("workflow", "Steps (JSON)", area),
          problems,
          field("workflow-payload", "Sample payload (JSON)", payloadArea),
          el("fieldset", { class: "sample-subscriber" }, el("legend", { text: "Sample subscriber" }),
            el("div", { class: "row" }, field("workflow-subscriber-id", "Stored subscriber id", subscriberID, "grow")),
            el("p", { class: "muted", text: "…or, with no id, one with these fields:" }),
            el("div", { class: "row" }, field("workflow-email", "Email", email, "grow"), field("workflow-phone", "Phone", phone, "grow"),
              field("workflow-timezone", "Time zone", timezone, "grow"))),
          el("div", { class: "field check" }, el("label", { for: "workflow-assume-read" }, assumeRead, " Assume the in-app message is read during the first wait")),
          el("div", { class: "row" },
            el("button", { type: "button", id: "workflow-preview-button", class: "secondary", text: "Preview", onclick: preview }),
            el("button", { type: "button", id: "workflow-save", text: "Save workflow", onclick: save })),
          status),
        el("div", {}, el("h3", { text: "Steps the sample would take" }), result)));
    setState("idle");
    return root;
  }

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
      frameForm,
      workflowEditor(key, original, draft, () => { try { return payload(); } catch { return {}; } })));
    renderPreview();
  }

  /** A message with its attempts and its event's payload, into `container`; with a Close button when `close` is given. */
  async function messageDetail(id, container, close) {
    container.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
    try {
      const message = await api("GET", `/v1/messages/${encodeURIComponent(id)}`);
      const event = await api("GET", `/v1/events/${encodeURIComponent(message.event_id)}?limit=1`).catch(() => null);
      const attempts = (message.attempt_log || []).map((attempt) => el("tr", {},
        el("td", { class: "number", text: String(attempt.number) }), el("td", { text: when(attempt.started_at) }),
        el("td", { text: attempt.outcome.replace(/_/g, " ") }), el("td", { class: "number", text: millis(attempt.duration_ms) }),
        el("td", { class: "reason", text: attempt.detail || "" })));
      const eventLink = el("a", { href: `#/events/${encodeURIComponent(message.event_id)}`, text: message.event_id });
      container.replaceChildren(...[el("h2", { tabindex: "-1", id: "detail-heading" }, `Message ${message.id}`),
        close ? el("button", { type: "button", class: "secondary small", text: "Close", onclick: close }) : null,
        el("dl", { class: "facts" }, [
          ["Event", eventLink], ["Type", message.event_type], ["Subscriber", message.subscriber_id], ["Channel", message.channel],
          ["Status", message.status], ["Reason", message.reason || "–"], ["Last error", message.last_error || "–"], ["Updated", when(message.updated_at)],
        ].map(([term, value]) => [el("dt", { text: term }), el("dd", {}, value)])),
        el("h3", { text: "Attempts" }), table(["#", "Started", "Outcome", "Duration", "Detail"], attempts, { empty: "No attempts yet." }),
        event ? el("h3", { text: "Event payload" }) : null,
        event ? el("pre", { class: "code payload", id: "detail-payload", text: JSON.stringify(event.payload, null, 2) }) : null].filter(Boolean));
    } catch (error) {
      container.replaceChildren(banner("error", problemText(error)));
    }
  }

  async function messagePage(id) {
    setTitle(`Message ${id}`);
    const detail = el("div", { class: "detail", id: "detail" });
    view.replaceChildren(el("section", {}, el("p", {}, el("a", { href: "#/activity", text: "← Activity" })), detail));
    await messageDetail(id, detail, null);
  }

  // --- Events and their workflow runs ----------------------------------------------------------------------------
  const words = (code) => String(code).replace(/[_.]/g, " ");

  /** One run's (or one preview's) steps in order: summary, status badge, reason, times and messages. */
  function timeline(steps, options = {}) {
    return el("ol", { class: "timeline" }, steps.map((step) => {
      const times = [];
      if (step.at) times.push(el("time", { datetime: step.at, text: when(step.at) }));
      if (step.until) {
        const sameDay = step.at && new Date(step.at).toDateString() === new Date(step.until).toDateString();
        times.push(step.at ? " · " : "", step.status === "waiting" ? "until " : "set to end ",
          el("time", { datetime: step.until, text: sameDay ? timeOfDay.format(new Date(step.until)) : when(step.until) }));
      }
      const messages = (step.messages || []).map((message) => el("li", { "data-channel": message.channel, "data-status": message.status },
        message.id && options.links !== false
          ? el("a", { href: `#/messages/${encodeURIComponent(message.id)}`, text: message.channel, title: `Message ${message.id}` })
          : el("span", { class: "channel", text: message.channel }),
        statusChip(message.status),
        message.reason ? el("span", { class: "muted", text: words(message.reason) }) : null));
      return el("li", { class: `step step-${step.status}`, "data-index": step.index, "data-status": step.status, "data-reason": step.reason || "" },
        el("div", { class: "step-head" },
          el("span", { class: "step-number", text: String(step.index + 1), "aria-hidden": "true" }),
          el("span", { class: "step-summary", text: step.summary }), statusChip(step.status)),
        step.reason ? el("div", { class: "step-reason", title: step.reason, text: words(step.reason) }) : null,
        times.length ? el("div", { class: "step-time" }, times) : null,
        messages.length ? el("ul", { class: "step-messages", "aria-label": "Messages" }, messages) : null);
    }));
  }

  function runCard(run) {
    return el("article", { class: "run", "data-subscriber": run.subscriber_id, "data-status": run.status, "data-outcome": run.outcome || "" },
      el("header", { class: "run-head" },
        el("h3", {}, el("a", { href: `#/subscribers/${encodeURIComponent(run.subscriber_id)}`, text: run.subscriber_id })),
        statusChip(run.status),
        run.outcome ? el("span", { class: "muted", text: `outcome: ${words(run.outcome)}` }) : null,
        run.due_at && run.status !== "completed" && run.status !== "cancelled" ? el("span", { class: "muted", text: `next step ${when(run.due_at)}` }) : null),
      timeline(run.steps));
  }

  function workflowRuns(eventID, workflow) {
    const list = el("div", { class: "runs", id: "runs" });
    const more = el("button", { type: "button", class: "secondary", id: "more-runs", text: "Load more runs" });
    const status = el("div", { role: "status", "aria-live": "polite" });
    const subscriber = el("input", { id: "run-subscriber", name: "subscriber_id", autocomplete: "off", placeholder: "subscriber id" });
    let cursor = workflow.next_cursor || null;
    let filter = "";
    const show = (runs, append) => {
      const cards = runs.map(runCard);
      if (append) list.append(...cards);
      else list.replaceChildren(...(cards.length ? cards : [el("p", { class: "muted", text: filter ? `No run for ${filter}.` : "No runs." })]));
      more.hidden = !cursor;
    };
    async function load(append) {
      const query = new URLSearchParams({ limit: "50" });
      if (filter) query.set("subscriber_id", filter);
      if (append && cursor) query.set("cursor", cursor);
      try {
        const page = await api("GET", `/v1/events/${encodeURIComponent(eventID)}/runs?${query}`);
        cursor = page.next_cursor || null;
        show(page.data, append);
        status.replaceChildren();
      } catch (error) {
        status.replaceChildren(banner("error", problemText(error)));
      }
      list.dataset.filter = filter;
    }
    const form = el("form", { class: "filters row", role: "search", id: "run-filter" },
      el("div", { class: "field" }, el("label", { for: "run-subscriber", text: "Subscriber" }), subscriber),
      el("button", { type: "submit", text: "Show" }),
      el("button", { type: "button", class: "secondary", text: "All", onclick: () => { subscriber.value = ""; filter = ""; cursor = null; load(false); } }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      filter = subscriber.value.trim();
      cursor = null;
      load(false);
    });
    more.addEventListener("click", () => load(true));
    show(workflow.runs, false);
    const counts = Object.entries(workflow.counts).sort(([a], [b]) => a.localeCompare(b)).map(([name, count]) =>
      el("div", { class: "card", "data-count": name }, el("div", { class: "card-label", text: words(name) }), el("div", { class: "card-value", text: String(count) })));
    return el("section", { class: "workflow-runs", "aria-labelledby": "runs-heading" },
      el("h2", { id: "runs-heading", text: "Workflow runs" }),
      el("p", { class: "muted", text: "One run per recipient: each step of the event type's workflow, what it did and why." }),
      el("div", { class: "cards run-counts", id: "run-counts" }, counts), form, status, list, more);
  }

  async function events(params) {
    setTitle("Events");
    const type = params.get("type") || "";
    const body = el("tbody");
    const more = el("button", { type: "button", class: "secondary", hidden: true, text: "Load more" });
    let cursor = null;
    async function load() {
      const query = new URLSearchParams({ limit: "50" });
      if (type) query.set("type", type);
      if (cursor) query.set("cursor", cursor);
      const page = await api("GET", `/v1/events?${query}`);
      body.append(...page.data.map((event) => el("tr", {},
        el("td", { text: when(event.created_at) }),
        el("td", {}, el("a", { href: `#/events/${encodeURIComponent(event.id)}` }, el("code", { text: event.id }))),
        el("td", { text: event.type }), el("td", {}, el("span", { class: `chip priority-${event.priority}`, text: event.priority })),
        el("td", {}, statusChip(event.status)))));
      if (!body.children.length) body.append(el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No events yet." })));
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
    }
    more.addEventListener("click", load);
    view.replaceChildren(el("section", {}, el("h1", { text: "Events" }),
      el("p", { class: "muted", text: type ? `Events of type ${type}, newest first.` : "Every triggered event, newest first." }),
      el("div", { class: "table-wrap" }, el("table", {}, el("thead", {}, el("tr", {}, ["Created", "Id", "Type", "Priority", "Status"].map((heading) =>
        el("th", { scope: "col", text: heading })))), body)), more));
    await load();
  }

  async function eventPage(id) {
    setTitle(`Event ${id}`);
    const event = await api("GET", `/v1/events/${encodeURIComponent(id)}?limit=50`);
    const messages = event.messages.map((message) => el("tr", { "data-id": message.id },
      el("td", { text: when(message.created_at) }), el("td", { text: message.subscriber_id }), el("td", { text: message.channel }),
      el("td", {}, statusChip(message.status)), el("td", { class: "reason", text: message.reason || message.last_error || "" }),
      el("td", {}, el("a", { href: `#/messages/${encodeURIComponent(message.id)}`, text: "Details", "aria-label": `Details of ${message.id}` }))));
    const counts = Object.entries(event.counts).filter(([, count]) => count > 0).sort(([a], [b]) => a.localeCompare(b));
    view.replaceChildren(el("section", {},
      el("h1", {}, "Event ", el("code", { text: event.id })),
      el("p", { class: "muted" }, el("a", { href: `#/event-types/${encodeURIComponent(event.type)}`, text: event.type }), ` · ${event.priority} · ${words(event.status)}`),
      el("dl", { class: "facts" }, [["Created", when(event.created_at)], ["Send at", event.send_at ? when(event.send_at) : "–"], ["Actor", event.actor || "–"],
        ["Cancellation key", event.cancellation_key || "–"], ["Messages", counts.length ? counts.map(([name, count]) => `${words(name)}: ${count}`).join(" · ") : "none"]]
        .map(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })])),
      event.workflow ? workflowRuns(event.id, event.workflow) : null,
      el("h2", { text: "Messages" }),
      table(["Created", "Subscriber", "Channel", "Status", "Reason", ""], messages, { empty: "No messages (yet)." }),
      event.next_cursor ? el("p", {}, el("a", { href: `#/activity?event=${encodeURIComponent(event.id)}`, text: "All messages of this event" })) : null,
      el("h2", { text: "Payload" }),
      el("pre", { class: "code payload", id: "event-payload", text: JSON.stringify(event.payload, null, 2) })));
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
        el("td", { text: when(message.created_at) }),
        el("td", {}, el("a", { href: `#/events/${encodeURIComponent(message.event_id)}`, text: message.event_type, title: `Event ${message.event_id}` })),
        el("td", { text: message.subscriber_id }),
        el("td", { text: message.channel }), el("td", {}, statusChip(message.status)), el("td", { class: "reason", text: message.reason || message.last_error || "" }),
        el("td", { class: "number", text: String(message.attempts) }), actions);
    }

    async function showDetail(id) {
      await messageDetail(id, detail, () => detail.replaceChildren());
      const heading = document.getElementById("detail-heading");
      if (heading) heading.focus();
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
        el("td", {}, entry.message_id ? el("a", { href: `#/messages/${encodeURIComponent(entry.message_id)}`, text: entry.message_id }) : "–"),
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
    [/^#\/events(?:\?(.*))?$/, (match) => events(new URLSearchParams(match[1] || "")), "events"],
    [/^#\/events\/([^?]+)$/, (match) => eventPage(decodeURIComponent(match[1])), "events"],
    [/^#\/messages\/(.+)$/, (match) => messagePage(decodeURIComponent(match[1])), "activity"],
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
