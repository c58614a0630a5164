/* Herald web components: <herald-inbox> (a bell with the unread count and the newest messages, live)
   and <herald-preferences> (what reaches the subscriber and how, with quiet hours).
   Served by Herald at /embed/herald.js. Plain custom elements with shadow DOM: no framework, no build.

   <script src="https://herald.example.com/embed/herald.js" defer></script>
   <herald-inbox token="SUBSCRIBER_TOKEN"></herald-inbox>
   <herald-preferences token="SUBSCRIBER_TOKEN"></herald-preferences>

   With push-worker="/herald-sw.js" (a file on the site: importScripts("https://herald.example.com/embed/herald-sw.js");)
   the inbox panel offers "Notify me on this device" (Web Push) where the browser supports it.

   Every piece of data is set with textContent or a checked attribute value, never parsed as HTML. */
(() => {
  "use strict";
  if (customElements.get("herald-inbox")) return;

  // Where Herald is: the origin (and path prefix) this script was loaded from, unless an element says `api`.
  const scriptURL = document.currentScript && document.currentScript.src ? new URL(document.currentScript.src) : null;
  const defaultAPI = scriptURL ? new URL("..", scriptURL).href.replace(/\/$/, "") : location.origin;

  const LABELS = {
    en: {
      notifications: "Notifications",
      bell: (n) => (n === 0 ? "Notifications, none unread" : n === 1 ? "Notifications, 1 unread" : `Notifications, ${n} unread`),
      markAllRead: "Mark all as read",
      markRead: "Mark as read",
      archive: "Archive",
      archiveItem: (t) => `Archive “${t}”`,
      open: "Open",
      unread: "Unread",
      empty: "You’re all caught up.",
      loading: "Loading…",
      loadFailed: "Notifications could not be loaded.",
      more: "Show more",
      close: "Close",
      retry: "Try again",
      announceNew: (t) => `New notification: ${t}`,
      announceUnread: (n) => (n === 1 ? "1 unread notification" : `${n} unread notifications`),
      reconnecting: "Reconnecting…",
      expired: "Your session has expired. Reload the page to see new notifications.",
      pushOn: "Notify me on this device",
      pushOff: "Notifications on · turn off",
      pushWorking: "One moment…",
      pushDenied: "Notifications are blocked for this site in your browser’s settings.",
      pushFailed: "Notifications could not be turned on for this device.",
      pushOffFailed: "Notifications could not be turned off. Try again.",
      preferences: "Notification settings",
      preferencesIntro: "Choose what reaches you, and how.",
      alwaysOn: "Always on",
      criticalReason: "Critical notices always reach you, whatever your settings.",
      offFromEmail: "Turned off from an email link",
      quietHours: "Quiet hours",
      quietHoursIntro: "Hold notifications during these hours and deliver them when quiet hours end. Critical notices still arrive at once.",
      quietEnabled: "Use quiet hours",
      from: "From",
      until: "Until",
      timezone: "Time zone",
      saving: "Saving…",
      saved: "Saved",
      saveFailed: "Could not save: ",
      channel: { in_app: "In the app", email: "Email", sms: "Text message", webhook: "Webhook", chat: "Chat", push: "Push notifications" },
      category: { other: "Other" },
    },
    fr: {
      notifications: "Notifications",
      bell: (n) => (n === 0 ? "Notifications, aucune non lue" : n === 1 ? "Notifications, 1 non lue" : `Notifications, ${n} non lues`),
      markAllRead: "Tout marquer comme lu",
      markRead: "Marquer comme lu",
      archive: "Archiver",
      archiveItem: (t) => `Archiver « ${t} »`,
      open: "Ouvrir",
      unread: "Non lu",
      empty: "Vous êtes à jour.",
      loading: "Chargement…",
      loadFailed: "Impossible de charger les notifications.",
      more: "Afficher plus",
      close: "Fermer",
      retry: "Réessayer",
      announceNew: (t) => `Nouvelle notification : ${t}`,
      announceUnread: (n) => (n === 1 ? "1 notification non lue" : `${n} notifications non lues`),
      reconnecting: "Reconnexion…",
      expired: "Votre session a expiré. Rechargez la page pour voir les nouvelles notifications.",
      pushOn: "M’avertir sur cet appareil",
      pushOff: "Notifications activées · désactiver",
      pushWorking: "Un instant…",
      pushDenied: "Les notifications sont bloquées pour ce site dans les réglages du navigateur.",
      pushFailed: "Impossible d’activer les notifications sur cet appareil.",
      pushOffFailed: "Impossible de désactiver les notifications. Réessayez.",
      preferences: "Préférences de notification",
      preferencesIntro: "Choisissez ce que vous recevez, et comment.",
      alwaysOn: "Toujours activé",
      criticalReason: "Les avis critiques vous parviennent toujours, quels que soient vos réglages.",
      offFromEmail: "Désactivé depuis un lien dans un e-mail",
      quietHours: "Heures calmes",
      quietHoursIntro: "Les notifications sont retenues pendant ces heures et envoyées à leur fin. Les avis critiques arrivent quand même aussitôt.",
      quietEnabled: "Activer les heures calmes",
      from: "De",
      until: "À",
      timezone: "Fuseau horaire",
      saving: "Enregistrement…",
      saved: "Enregistré",
      saveFailed: "Échec de l’enregistrement : ",
      channel: { in_app: "Dans l’application", email: "E-mail", sms: "SMS", webhook: "Webhook", chat: "Messagerie", push: "Notifications push" },
      category: { other: "Autres" },
    },
  };

  /** The language for an element: its own `lang`, the nearest ancestor's, the page's, then the browser's. */
  function languageOf(element) {
    const tag = element.getAttribute("lang") || (element.parentElement && element.parentElement.closest("[lang]")?.getAttribute("lang"))
      || document.documentElement.lang || navigator.language || "en";
    const primary = tag.toLowerCase().split("-")[0];
    return LABELS[primary] ? primary : "en";
  }

  /** Elements re-label themselves when the page's language changes. */
  const languageListeners = new Set();
  new MutationObserver(() => languageListeners.forEach((listener) => listener())).observe(document.documentElement, {
    attributes: true, attributeFilter: ["lang"],
  });

  function sheet(css) {
    if ("adoptedStyleSheets" in Document.prototype && "replaceSync" in CSSStyleSheet.prototype) {
      const constructed = new CSSStyleSheet();
      constructed.replaceSync(css);
      return constructed;
    }
    return css;
  }

  /** Styles go in as constructed style sheets, which a host page's strict CSP (no inline styles) allows. */
  function adoptStyles(root, styles) {
    if (typeof styles === "string") {
      const element = document.createElement("style");
      element.textContent = styles;
      root.prepend(element);
    } else {
      root.adoptedStyleSheets = [styles];
    }
  }

  /** `el("button", {class: "x", "aria-label": "…"}, "text", child)`: a DOM element with text children only. */
  function el(name, attributes = {}, ...children) {
    const element = document.createElement(name);
    for (const [key, value] of Object.entries(attributes)) {
      if (value === false || value === null || value === undefined) continue;
      if (key === "text") element.textContent = value;
      else element.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      element.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return element;
  }

  /** Only http(s) links (relative ones resolve against the page); `javascript:` and the like are dropped. */
  function safeLink(url) {
    if (!url) return null;
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  /** Message ids grow with each message (`msg_123`): the order the server lists them in. */
  function messageNumber(item) {
    return parseInt(String(item.id).replace(/^\D+/, ""), 10) || 0;
  }

  class HeraldError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  /** Calls Herald with the subscriber token; a problem+json answer becomes a HeraldError. */
  async function call(element, method, path, body) {
    const headers = { Authorization: `Bearer ${element.token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(element.api + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit", cache: "no-store",
    });
    const text = await answer.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    if (!answer.ok) {
      const error = new HeraldError(answer.status, json);
      element.dispatchEvent(new CustomEvent("herald-error", { bubbles: true, composed: true, detail: { status: answer.status, problem: json } }));
      throw error;
    }
    return json;
  }

  /** Web Push needs a service worker, the Push API and notifications, in a secure context (https or localhost). */
  function pushSupported() {
    return window.isSecureContext && "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function bytesFromBase64URL(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
  }

  function sameBytes(a, b) {
    if (!a || !b) return false;
    const left = new Uint8Array(a);
    const right = new Uint8Array(b);
    return left.length === right.length && left.every((byte, index) => byte === right[index]);
  }

  /** Tenant and subscriber of a token (its first part is base64url JSON), to key what this browser remembers. */
  function tokenSubject(token) {
    try {
      const claims = JSON.parse(new TextDecoder().decode(bytesFromBase64URL(token.split(".")[0])));
      return `${claims.t}/${claims.s}`;
    } catch {
      return "";
    }
  }

  /** The registration once its worker is active (PushManager.subscribe needs one). Not `serviceWorker.ready`,
      which waits for a worker controlling this page and never settles when the worker's scope is elsewhere. */
  function activated(registration) {
    if (registration.active) return Promise.resolve(registration);
    const worker = registration.installing || registration.waiting;
    if (!worker) return Promise.reject(new Error("no service worker to wait for"));
    return new Promise((resolve, reject) => {
      const check = () => {
        if (worker.state === "activated") resolve(registration);
        else if (worker.state === "redundant") reject(new Error("the service worker failed to install"));
      };
      worker.addEventListener("statechange", check);
      check();
    });
  }

  /** The page's language tag, as Herald stores a device's locale (letters, digits, - and _), or none. */
  function deviceLocale(element) {
    const tag = element.getAttribute("lang") || document.documentElement.lang || navigator.language || "";
    return /^[A-Za-z0-9_-]{1,35}$/.test(tag) ? tag : undefined;
  }

  const BASE_CSS = `
    :host { --_accent: var(--herald-accent, #2457d6); --_accent-text: var(--herald-accent-text, #ffffff);
      --_bg: var(--herald-bg, #ffffff); --_text: var(--herald-text, #1d2330); --_muted: var(--herald-muted, #5b6472);
      --_border: var(--herald-border, #dde2ea); --_unread: var(--herald-unread-bg, #eef3ff); --_radius: var(--herald-radius, 10px);
      --_focus: var(--herald-focus, var(--_accent));
      font-family: var(--herald-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif); color: var(--_text); }
    [hidden] { display: none !important; }
    button { font: inherit; color: inherit; }
    :focus-visible { outline: 2px solid var(--_focus); outline-offset: 2px; }
    .sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
  `;

  const INBOX_CSS = BASE_CSS + `
    :host { display: inline-block; position: relative; line-height: 1.4; }
    .bell { position: relative; display: inline-flex; align-items: center; justify-content: center; cursor: pointer;
      width: var(--herald-bell-size, 40px); height: var(--herald-bell-size, 40px); border-radius: 50%;
      border: 1px solid transparent; background: var(--herald-bell-bg, transparent); color: var(--herald-bell-color, currentColor); padding: 0; }
    .bell:hover { background: var(--herald-bell-hover-bg, rgba(127, 127, 127, 0.12)); }
    .bell svg { width: 60%; height: 60%; }
    .badge { position: absolute; top: -2px; right: -4px; min-width: 18px; height: 18px; padding: 0 5px; box-sizing: border-box;
      border-radius: 9px; background: var(--herald-badge-bg, #d92d20); color: var(--herald-badge-text, #ffffff);
      font-size: 11px; font-weight: 700; line-height: 18px; text-align: center; box-shadow: 0 0 0 2px var(--_bg); }
    .panel { position: absolute; right: 0; top: calc(100% + 8px); z-index: var(--herald-z-index, 1000);
      width: min(var(--herald-panel-width, 380px), calc(100vw - 16px)); max-height: var(--herald-panel-height, 480px);
      display: flex; flex-direction: column; background: var(--_bg); color: var(--_text); border: 1px solid var(--_border);
      border-radius: var(--_radius); box-shadow: var(--herald-shadow, 0 12px 32px rgba(16, 24, 40, 0.18)); overflow: hidden; text-align: left; }
    @media (max-width: 520px) { .panel { position: fixed; left: 8px; right: 8px; top: var(--herald-phone-top, 64px); width: auto;
      max-height: calc(100vh - var(--herald-phone-top, 64px) - 16px); } }
    header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; border-bottom: 1px solid var(--_border); }
    h2 { margin: 0; font-size: 15px; font-weight: 650; flex: 1; }
    .link-button { border: 0; background: none; color: var(--_accent); cursor: pointer; font-size: 13px; padding: 4px 6px; border-radius: 6px; }
    .link-button:hover { text-decoration: underline; }
    .link-button:disabled { color: var(--_muted); cursor: default; text-decoration: none; }
    .close { border: 0; background: none; cursor: pointer; width: 28px; height: 28px; border-radius: 6px; color: var(--_muted); font-size: 18px; line-height: 1; }
    ul { list-style: none; margin: 0; padding: 0; overflow-y: auto; flex: 1; }
    li { display: flex; gap: 6px; align-items: flex-start; border-bottom: 1px solid var(--_border); padding: 0 8px 0 0; }
    li:last-child { border-bottom: 0; }
    li.unread { background: var(--_unread); }
    .item:focus-visible { outline-offset: -2px; }
    .item { flex: 1; min-width: 0; display: grid; grid-template-columns: 10px 1fr; column-gap: 8px; text-align: left; cursor: pointer;
      border: 0; background: none; padding: 12px 4px 12px 12px; }
    .dot { width: 8px; height: 8px; border-radius: 50%; margin-top: 6px; background: transparent; }
    li.unread .dot { background: var(--_accent); }
    .title { font-weight: 600; font-size: 14px; overflow-wrap: anywhere; }
    li:not(.unread) .title { font-weight: 500; }
    .body { grid-column: 2; font-size: 13px; color: var(--_muted); margin-top: 2px; overflow-wrap: anywhere; white-space: pre-line; }
    time { grid-column: 2; font-size: 12px; color: var(--_muted); margin-top: 4px; }
    .actions { display: flex; flex-direction: column; align-items: flex-end; gap: 2px; padding-top: 8px; }
    .action { font-size: 13px; color: var(--_accent); padding: 4px 6px; border-radius: 6px; text-decoration: none; white-space: nowrap; }
    .action:hover { text-decoration: underline; }
    .icon-button { border: 0; background: none; cursor: pointer; color: var(--_muted); width: 30px; height: 30px; border-radius: 6px; padding: 5px; }
    .icon-button:hover { background: rgba(127, 127, 127, 0.14); color: var(--_text); }
    .icon-button svg { width: 18px; height: 18px; }
    .state { padding: 28px 16px; text-align: center; color: var(--_muted); font-size: 14px; }
    .notice { padding: 8px 14px; font-size: 12px; color: var(--_muted); border-top: 1px solid var(--_border); }
    .more { display: block; width: 100%; padding: 10px; border-top: 1px solid var(--_border); }
    .push { display: flex; flex-wrap: wrap; align-items: center; gap: 2px 8px; padding: 6px 8px; border-top: 1px solid var(--_border); }
    .push .link-button[aria-disabled="true"] { color: var(--_muted); cursor: default; text-decoration: none; }
    .push-status { flex-basis: 100%; padding: 0 6px 4px; font-size: 12px; color: var(--herald-error, #b42318); }
    .push-status:empty { display: none; }
  `;

  const SVG_NS = "http://www.w3.org/2000/svg";
  function icon(paths) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    for (const d of paths) {
      const path = document.createElementNS(SVG_NS, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
      svg.append(path);
    }
    return svg;
  }
  const BELL = ["M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9", "M13.73 21a2 2 0 0 1-3.46 0"];
  const ARCHIVE = ["M21 8v13H3V8", "M1 3h22v5H1z", "M10 12h4"];

  /** Base for both components: token, API address, language. */
  class HeraldElement extends HTMLElement {
    static get observedAttributes() { return ["token", "api", "lang"]; }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this._relabel = () => this.render();
    }

    get token() { return this._token || this.getAttribute("token") || ""; }
    /** The host page may set the token as a property (a refreshed token), which keeps it out of the DOM. */
    set token(value) {
      this._token = value;
      if (this.isConnected) this.restart();
    }
    get api() { return (this.getAttribute("api") || defaultAPI).replace(/\/$/, ""); }
    get t() { return LABELS[languageOf(this)]; }
    get language() { return languageOf(this); }

    connectedCallback() {
      languageListeners.add(this._relabel);
      this.restart();
    }

    disconnectedCallback() {
      languageListeners.delete(this._relabel);
      this.stop();
    }

    attributeChangedCallback(name, before, after) {
      if (!this.isConnected || before === after) return;
      if (name === "lang") this.render();
      else this.restart();
    }

    relativeTime(iso) {
      const date = new Date(iso);
      const seconds = Math.round((date.getTime() - Date.now()) / 1000);
      const format = new Intl.RelativeTimeFormat(this.language, { numeric: "auto" });
      const steps = [[60, "second"], [3600, "minute"], [86400, "hour"], [604800, "day"]];
      const abs = Math.abs(seconds);
      if (abs < 45) return format.format(0, "second");
      for (let index = 1; index < steps.length; index++) {
        if (abs < steps[index][0]) return format.format(Math.round(seconds / steps[index - 1][0]), steps[index - 1][1]);
      }
      if (abs < 2592000) return format.format(Math.round(seconds / 86400), "day");
      return new Intl.DateTimeFormat(this.language, { dateStyle: "medium" }).format(date);
    }
  }

  /** <herald-inbox token="…">: a bell with the unread count; the panel lists the newest messages. */
  class HeraldInbox extends HeraldElement {
    static styles = sheet(INBOX_CSS);

    constructor() {
      super();
      adoptStyles(this.shadowRoot, HeraldInbox.styles);
      this.items = [];
      this.counts = { unread: 0, unseen: 0, total: 0 };
      this.state = "loading";
      this.nextCursor = null;
      this.open = false;
      this.connection = "connecting";
      this.pushState = "off";
      this.pushMessage = null;
      this.build();
      this._outside = (event) => {
        if (this.open && !event.composedPath().includes(this)) this.setOpen(false, false);
      };
    }

    static get observedAttributes() { return [...super.observedAttributes, "push-worker"]; }

    attributeChangedCallback(name, before, after) {
      if (name !== "push-worker") super.attributeChangedCallback(name, before, after);
      else if (this.isConnected && before !== after) { this.syncPush(); this.render(); }
    }

    /** The site's service worker script (`push-worker`), which imports Herald's; no attribute, no push control. */
    get pushWorker() { return this.getAttribute("push-worker") || ""; }

    get limit() { return Math.min(Math.max(parseInt(this.getAttribute("limit") || "10", 10) || 10, 1), 50); }

    build() {
      const root = this.shadowRoot;
      this.bell = el("button", { class: "bell", part: "bell", type: "button", "aria-haspopup": "dialog", "aria-expanded": "false", "aria-controls": "panel" });
      this.bell.append(icon(BELL));
      this.badge = el("span", { class: "badge", part: "badge", "aria-hidden": "true", hidden: true });
      this.bell.append(this.badge);
      this.heading = el("h2", { id: "heading" });
      this.readAll = el("button", { class: "link-button", type: "button", part: "mark-all-read" });
      this.closeButton = el("button", { class: "close", type: "button", text: "×" });
      this.list = el("ul", { part: "list", "aria-labelledby": "heading" });
      this.status = el("div", { class: "state", role: "status" });
      this.moreButton = el("button", { class: "link-button more", type: "button", hidden: true });
      this.notice = el("div", { class: "notice", hidden: true });
      this.pushButton = el("button", { class: "link-button push-toggle", type: "button", part: "push-toggle" });
      this.pushStatus = el("div", { class: "push-status", role: "status" });
      this.pushRow = el("div", { class: "push", part: "push", hidden: true }, this.pushButton, this.pushStatus);
      this.panel = el("div", { id: "panel", class: "panel", part: "panel", role: "dialog", "aria-labelledby": "heading", hidden: true, tabindex: "-1" },
        el("header", {}, this.heading, this.readAll, this.closeButton), this.list, this.status, this.moreButton, this.pushRow, this.notice);
      this.live = el("div", { class: "sr-only", "aria-live": "polite", "aria-atomic": "true" });
      root.append(this.bell, this.panel, this.live);

      this.bell.addEventListener("click", () => this.setOpen(!this.open, true));
      this.closeButton.addEventListener("click", () => this.setOpen(false, true));
      this.readAll.addEventListener("click", () => this.markAllRead());
      this.moreButton.addEventListener("click", () => this.loadMore());
      this.pushButton.addEventListener("click", () => this.togglePush());
      this.panel.addEventListener("keydown", (event) => this.onKey(event));
      this.list.addEventListener("click", (event) => this.onListClick(event));
    }

    restart() {
      this.stop();
      this.syncPush();
      if (!this.token) {
        this.state = "error";
        this.render();
        return;
      }
      this.items = [];
      this.nextCursor = null;
      this.state = "loading";
      this.render();
      this.load();
      this.connect();
      document.addEventListener("pointerdown", this._outside, true);
      // "2 minutes ago" keeps telling the truth while the page stays open.
      this.clock = setInterval(() => { if (this.open) this.render(); }, 60000);
    }

    stop() {
      if (this.stream) this.stream.close();
      this.stream = null;
      clearTimeout(this.reconnectTimer);
      clearInterval(this.clock);
      document.removeEventListener("pointerdown", this._outside, true);
    }

    async load() {
      try {
        const page = await call(this, "GET", `/v1/inbox?limit=${this.limit}`);
        // The server's page is the truth (read and archived states included); messages the stream
        // delivered after it stay on top.
        const listed = new Set(page.data.map((item) => item.id));
        const newest = page.data.length ? messageNumber(page.data[0]) : 0;
        this.items = this.items.filter((item) => !listed.has(item.id) && messageNumber(item) > newest).concat(page.data);
        this.sortItems();
        this.nextCursor = page.next_cursor || null;
        this.state = "ready";
      } catch (error) {
        this.state = error.status === 401 ? "expired" : "error";
      }
      this.render();
    }

    async loadMore() {
      if (!this.nextCursor) return;
      try {
        const page = await call(this, "GET", `/v1/inbox?limit=${this.limit}&cursor=${encodeURIComponent(this.nextCursor)}`);
        const known = new Set(this.items.map((item) => item.id));
        this.items = this.items.concat(page.data.filter((item) => !known.has(item.id)));
        this.nextCursor = page.next_cursor || null;
        this.render();
      } catch {
        /* the button stays; the next click tries again */
      }
    }

    /** Newest first, as the server lists them. */
    sortItems() {
      this.items.sort((a, b) => messageNumber(b) - messageNumber(a));
    }

    /** The live stream. EventSource reconnects by itself (resuming with Last-Event-ID) after a dropped
        connection; when the server refuses it outright it gives up, and we reconnect with backoff. */
    connect(lastEventID) {
      const query = `token=${encodeURIComponent(this.token)}` + (lastEventID ? `&last_event_id=${encodeURIComponent(lastEventID)}` : "");
      const stream = new EventSource(`${this.api}/v1/inbox/stream?${query}`);
      this.stream = stream;
      const handle = (type, apply) => stream.addEventListener(type, (event) => {
        this.lastEventID = event.lastEventId || this.lastEventID;
        let update;
        try { update = JSON.parse(event.data); } catch { return; }
        apply(update);
        if (update.counts) this.setCounts(update.counts);
        this.render();
      });
      stream.addEventListener("open", () => {
        // After a gap, reads and archives made elsewhere meanwhile come from the list, not the stream.
        if (this.connection === "reconnecting") this.load();
        this.backoff = 0;
        this.connection = "open";
        this.render();
      });
      handle("inbox.counts", () => {
        this.connection = "open";
      });
      handle("message.created", (update) => {
        if (!update.message || this.items.some((item) => item.id === update.message.id)) return;
        this.items.unshift(update.message);
        this.sortItems();
        this.state = "ready";
        this.announce(this.t.announceNew(update.message.title));
        this.dispatchEvent(new CustomEvent("herald-message", { bubbles: true, composed: true, detail: update.message }));
      });
      handle("message.read", (update) => {
        const item = this.items.find((candidate) => candidate.id === update.message_id);
        if (item && !item.read_at) item.read_at = new Date().toISOString();
      });
      handle("message.archived", (update) => {
        this.items = this.items.filter((item) => item.id !== update.message_id);
      });
      handle("inbox.read_all", () => {
        const now = new Date().toISOString();
        for (const item of this.items) if (!item.read_at) item.read_at = now;
      });
      handle("inbox.seen", () => {});
      stream.addEventListener("error", () => {
        if (stream !== this.stream) return;
        if (stream.readyState === EventSource.CLOSED) this.scheduleReconnect();
        else { this.connection = "reconnecting"; this.render(); }
      });
    }

    async scheduleReconnect() {
      this.stream = null;
      this.connection = "reconnecting";
      this.render();
      // A refused stream is most often an expired token: ask once, plainly, and stop if so.
      try {
        await call(this, "GET", "/v1/inbox/count");
      } catch (error) {
        if (error.status === 401 || error.status === 403) {
          this.connection = "expired";
          this.render();
          return;
        }
      }
      this.backoff = Math.min((this.backoff || 500) * 2, 30000);
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => {
        if (this.isConnected && !this.stream) this.connect(this.lastEventID);
      }, this.backoff * (0.75 + Math.random() * 0.5));
    }

    /** Where this browser remembers its device for this Herald and subscriber. */
    get pushKey() { return `herald-push:${this.api}:${tokenSubject(this.token)}`; }

    pushRecord() {
      try {
        return JSON.parse(localStorage.getItem(this.pushKey) || "null");
      } catch {
        return null;
      }
    }

    rememberPush(record) {
      try {
        if (record) localStorage.setItem(this.pushKey, JSON.stringify(record));
        else localStorage.removeItem(this.pushKey);
      } catch {
        /* storage blocked: the control shows "off" after a reload, and turning on again re-registers the same endpoint */
      }
    }

    /** On when this browser registered a device for this subscriber and may still show notifications. */
    syncPush() {
      if (this.pushState === "working") return;
      this.pushMessage = null;
      this.pushState = pushSupported() && this.pushRecord() && Notification.permission === "granted" ? "on" : "off";
    }

    togglePush() {
      if (this.pushState === "working") return;
      if (this.pushState === "on") this.disablePush();
      else this.enablePush();
    }

    async enablePush() {
      const worker = this.pushWorker;
      this.pushState = "working";
      this.pushMessage = null;
      this.render();
      try {
        // First, while the click still counts as the user's gesture.
        const permission = await Notification.requestPermission();
        if (permission !== "granted") {
          this.pushState = "off";
          this.pushMessage = permission === "denied" ? "pushDenied" : null;
          return;
        }
        const registration = await activated(await navigator.serviceWorker.register(worker));
        const { public_key: publicKey } = await call(this, "GET", "/v1/inbox/devices/vapid-public-key");
        const applicationServerKey = bytesFromBase64URL(publicKey);
        // A subscription made with another key (another Herald, or a key that changed) cannot carry this one's pushes.
        const existing = await registration.pushManager.getSubscription();
        if (existing && !sameBytes(existing.options && existing.options.applicationServerKey, applicationServerKey)) await existing.unsubscribe();
        const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
        const device = await call(this, "POST", "/v1/inbox/devices", {
          platform: "webpush", subscription: subscription.toJSON(), locale: deviceLocale(this),
        });
        this.rememberPush({ device: device.id, endpoint: subscription.endpoint, worker });
        this.pushState = "on";
        this.dispatchEvent(new CustomEvent("herald-push", { bubbles: true, composed: true, detail: { enabled: true, device: device.id } }));
      } catch {
        this.pushState = "off";
        this.pushMessage = "pushFailed";
      } finally {
        this.render();
      }
    }

    async disablePush() {
      const record = this.pushRecord();
      this.pushState = "working";
      this.pushMessage = null;
      this.render();
      try {
        if (record && record.device) {
          try {
            await call(this, "DELETE", `/v1/inbox/devices/${encodeURIComponent(record.device)}`);
          } catch (error) {
            if (error.status !== 404) throw error;
          }
        }
        // Herald sends to it no more; the browser's subscription goes too, so nothing else can use it.
        try {
          const script = new URL(record && record.worker ? record.worker : this.pushWorker, location.href).href;
          const registrations = await navigator.serviceWorker.getRegistrations();
          const registration = registrations.find((candidate) =>
            [candidate.active, candidate.waiting, candidate.installing].some((worker) => worker && worker.scriptURL === script));
          const subscription = registration ? await registration.pushManager.getSubscription() : null;
          if (subscription) await subscription.unsubscribe();
        } catch {
          /* the device is gone from Herald, which is what stops its pushes */
        }
        this.rememberPush(null);
        this.pushState = "off";
        this.dispatchEvent(new CustomEvent("herald-push", { bubbles: true, composed: true, detail: { enabled: false, device: record && record.device } }));
      } catch {
        this.pushState = "on";
        this.pushMessage = "pushOffFailed";
      } finally {
        this.render();
      }
    }

    setCounts(counts) {
      if (counts && typeof counts.unread === "number") this.counts = counts;
    }

    announce(text) {
      this.live.textContent = "";
      // A fresh text node after a tick makes screen readers announce repeated messages too.
      setTimeout(() => { this.live.textContent = text; }, 50);
    }

    setOpen(open, moveFocus) {
      if (this.open === open) return;
      this.open = open;
      this.render();
      if (open) {
        if (this.counts.unseen > 0) call(this, "POST", "/v1/inbox/seen").then((counts) => { this.setCounts(counts); this.render(); }).catch(() => {});
        if (moveFocus) (this.list.querySelector(".item") || this.panel).focus();
      } else if (moveFocus) {
        this.bell.focus();
      }
      this.dispatchEvent(new CustomEvent(open ? "herald-open" : "herald-close", { bubbles: true, composed: true }));
    }

    onKey(event) {
      if (event.key === "Escape") {
        event.preventDefault();
        this.setOpen(false, true);
        return;
      }
      if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) return;
      const items = Array.from(this.list.querySelectorAll(".item"));
      if (items.length === 0) return;
      const current = items.indexOf(this.shadowRoot.activeElement);
      let next = current;
      if (event.key === "ArrowDown") next = current < 0 ? 0 : Math.min(current + 1, items.length - 1);
      if (event.key === "ArrowUp") next = current < 0 ? items.length - 1 : Math.max(current - 1, 0);
      if (event.key === "Home") next = 0;
      if (event.key === "End") next = items.length - 1;
      event.preventDefault();
      items[next].focus();
    }

    onListClick(event) {
      const row = event.target.closest("li[data-id]");
      if (!row) return;
      const id = row.dataset.id;
      if (event.target.closest(".archive")) this.archive(id);
      else if (event.target.closest(".item")) this.markRead(id);
      else if (event.target.closest(".action")) this.recordClick(id);
    }

    /** The item's link was followed: a click (which also reads it), sent so it survives the navigation. */
    recordClick(id) {
      const item = this.items.find((candidate) => candidate.id === id);
      if (item && !item.read_at) {
        item.read_at = new Date().toISOString();
        this.setCounts({ ...this.counts, unread: Math.max(0, this.counts.unread - 1) });
        this.render();
      }
      fetch(`${this.api}/v1/inbox/${encodeURIComponent(id)}/click`, {
        method: "POST", headers: { Authorization: `Bearer ${this.token}` }, credentials: "omit", cache: "no-store", keepalive: true,
      }).catch(() => {});
    }

    async markRead(id) {
      const item = this.items.find((candidate) => candidate.id === id);
      if (!item || item.read_at) return;
      item.read_at = new Date().toISOString();
      this.setCounts({ ...this.counts, unread: Math.max(0, this.counts.unread - 1) });
      this.render();
      try {
        this.setCounts(await call(this, "POST", `/v1/inbox/${encodeURIComponent(id)}/read`));
      } catch {
        item.read_at = null;
      }
      this.render();
    }

    async archive(id) {
      const rows = Array.from(this.list.querySelectorAll("li[data-id]"));
      const index = rows.findIndex((row) => row.dataset.id === id);
      this.items = this.items.filter((item) => item.id !== id);
      this.render();
      const items = this.list.querySelectorAll(".item");
      (items[Math.min(index, items.length - 1)] || this.panel).focus();
      try {
        this.setCounts(await call(this, "POST", `/v1/inbox/${encodeURIComponent(id)}/archive`));
        this.render();
      } catch {
        this.load();
      }
    }

    async markAllRead() {
      const now = new Date().toISOString();
      for (const item of this.items) if (!item.read_at) item.read_at = now;
      this.setCounts({ ...this.counts, unread: 0 });
      this.render();
      try {
        this.setCounts(await call(this, "POST", "/v1/inbox/read-all"));
      } catch {
        this.load();
      }
      this.render();
    }

    render() {
      if (!this.bell) return;
      const t = this.t;
      const unread = this.counts.unread || 0;
      this.badge.textContent = unread > 99 ? "99+" : String(unread);
      this.badge.hidden = unread === 0;
      this.bell.setAttribute("aria-label", t.bell(unread));
      this.bell.setAttribute("aria-expanded", String(this.open));
      this.setAttribute("unread", String(unread));
      this.panel.hidden = !this.open;
      this.heading.textContent = t.notifications;
      this.readAll.textContent = t.markAllRead;
      this.readAll.disabled = unread === 0;
      this.closeButton.setAttribute("aria-label", t.close);
      this.moreButton.textContent = t.more;
      this.moreButton.hidden = !this.nextCursor || this.state !== "ready";

      // The list is rebuilt from the items; keep keyboard focus on the same message and control.
      const focused = this.shadowRoot.activeElement;
      const focusedID = focused && focused.closest ? focused.closest("li[data-id]")?.dataset.id : null;
      const focusedRole = focused && focused.classList ? ["archive", "action", "item"].find((name) => focused.classList.contains(name)) : null;
      this.list.replaceChildren(...this.items.map((item) => this.row(item)));
      if (focusedID) {
        const row = this.list.querySelector(`li[data-id="${CSS.escape(focusedID)}"]`);
        const target = row && (row.querySelector(`.${focusedRole || "item"}`) || row.querySelector(".item"));
        if (target) target.focus();
      }

      const empty = this.state === "ready" && this.items.length === 0;
      this.status.hidden = this.state === "ready" && !empty;
      this.status.textContent = this.state === "loading" ? t.loading : this.state === "expired" ? t.expired
        : this.state === "error" ? t.loadFailed : empty ? t.empty : "";
      this.notice.hidden = this.connection !== "reconnecting" && this.connection !== "expired";
      this.notice.textContent = this.connection === "expired" ? t.expired : t.reconnecting;

      this.pushRow.hidden = !this.pushWorker || !pushSupported() || !this.token;
      this.pushButton.textContent = this.pushState === "working" ? t.pushWorking : this.pushState === "on" ? t.pushOff : t.pushOn;
      // aria-disabled, not disabled: the button keeps keyboard focus while it works.
      this.pushButton.setAttribute("aria-disabled", String(this.pushState === "working"));
      this.pushButton.setAttribute("data-state", this.pushState || "off");
      this.pushStatus.textContent = this.pushMessage ? t[this.pushMessage] : "";
    }

    row(item) {
      const t = this.t;
      const unread = !item.read_at;
      const title = el("span", { class: "title", part: "title", text: item.title });
      const main = el("button", { class: "item", type: "button", part: "item" }, el("span", { class: "dot", "aria-hidden": "true" }), title);
      if (unread) main.append(el("span", { class: "sr-only", text: ` (${t.unread})` }));
      if (item.body) main.append(el("span", { class: "body", part: "body", text: item.body }));
      main.append(el("time", { datetime: item.created_at, title: new Date(item.created_at).toLocaleString(this.language), text: this.relativeTime(item.created_at) }));
      if (unread) main.setAttribute("aria-description", t.markRead);
      const actions = el("div", { class: "actions" });
      const link = safeLink(item.action_url);
      if (link) actions.append(el("a", { class: "action", part: "action", href: link, rel: "noopener noreferrer", text: t.open }));
      const archive = el("button", { class: "icon-button archive", type: "button", "aria-label": t.archiveItem(item.title), title: t.archive });
      archive.append(icon(ARCHIVE));
      actions.append(archive);
      return el("li", { class: unread ? "unread" : "read", "data-id": item.id, part: unread ? "row unread" : "row" }, main, actions);
    }
  }

  const PREFERENCES_CSS = BASE_CSS + `
    :host { display: block; line-height: 1.45; }
    .wrap { background: var(--_bg); color: var(--_text); border: 1px solid var(--_border); border-radius: var(--_radius); padding: 20px; }
    h2 { margin: 0 0 4px; font-size: 20px; }
    .intro { margin: 0 0 16px; color: var(--_muted); font-size: 14px; }
    h3 { margin: 20px 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: 0.06em; color: var(--_muted); }
    .row { border-top: 1px solid var(--_border); padding: 12px 0; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; }
    .name { font-weight: 600; font-size: 15px; }
    .type { flex: 1 1 220px; min-width: 0; }
    .type .description { display: block; color: var(--_muted); font-size: 13px; margin-top: 2px; }
    .critical { display: inline-block; margin-top: 4px; font-size: 12px; color: var(--herald-critical-text, #8a2c0d); background: var(--herald-critical-bg, #fff1e6);
      border-radius: 6px; padding: 2px 8px; }
    .toggles { display: flex; flex-wrap: wrap; gap: 8px; }
    label.toggle { display: inline-flex; align-items: center; gap: 8px; font-size: 14px; border: 1px solid var(--_border); border-radius: 999px;
      padding: 5px 12px 5px 6px; cursor: pointer; user-select: none; }
    label.toggle.locked { cursor: not-allowed; opacity: 0.85; }
    input.switch { appearance: none; -webkit-appearance: none; margin: 0; width: 34px; height: 20px; border-radius: 10px; background: var(--herald-switch-off, #c5ccd6);
      position: relative; cursor: inherit; transition: background 0.15s; flex: none; }
    input.switch::after { content: ""; position: absolute; top: 2px; left: 2px; width: 16px; height: 16px; border-radius: 50%; background: #ffffff;
      transition: transform 0.15s; box-shadow: 0 1px 2px rgba(0, 0, 0, 0.25); }
    input.switch:checked { background: var(--_accent); }
    input.switch:checked::after { transform: translateX(14px); }
    input.switch:disabled:checked { background: var(--herald-switch-locked, #7a8699); }
    .source { flex-basis: 100%; font-size: 12px; color: var(--_muted); }
    .quiet { margin-top: 24px; border-top: 2px solid var(--_border); padding-top: 4px; }
    .quiet p { color: var(--_muted); font-size: 13px; margin: 0 0 12px; }
    .quiet-row { display: flex; flex-wrap: wrap; gap: 12px 16px; align-items: end; }
    .field { display: flex; flex-direction: column; gap: 4px; font-size: 13px; color: var(--_muted); }
    .field input, .field select { font: inherit; font-size: 14px; color: var(--_text); background: var(--_bg); border: 1px solid var(--_border);
      border-radius: 8px; padding: 6px 8px; min-height: 36px; box-sizing: border-box; }
    .field select { max-width: 240px; }
    .check { display: inline-flex; align-items: center; gap: 8px; font-size: 14px; margin-bottom: 12px; cursor: pointer; }
    .status { min-height: 20px; margin-top: 14px; font-size: 13px; color: var(--_muted); }
    .status.error { color: var(--herald-error, #b42318); }
  `;

  /** <herald-preferences token="…">: event types by category × channel, and quiet hours. */
  class HeraldPreferences extends HeraldElement {
    static styles = sheet(PREFERENCES_CSS);

    constructor() {
      super();
      adoptStyles(this.shadowRoot, HeraldPreferences.styles);
      this.wrap = el("div", { class: "wrap", part: "container" });
      this.statusLine = el("div", { class: "status", role: "status", "aria-live": "polite" });
      this.shadowRoot.append(this.wrap);
      this.data = null;
      this.wrap.addEventListener("change", (event) => this.onChange(event));
    }

    restart() {
      this.data = null;
      this.render();
      if (!this.token) return;
      call(this, "GET", "/v1/inbox/preferences").then((data) => {
        this.data = data;
        this.render();
        this.dispatchEvent(new CustomEvent("herald-ready", { bubbles: true, composed: true }));
      }).catch((error) => this.showStatus(this.t.saveFailed + error.message, true));
    }

    stop() {}

    showStatus(text, failed) {
      this.statusLine.textContent = text;
      this.statusLine.classList.toggle("error", Boolean(failed));
    }

    async save(update, revert) {
      this.showStatus(this.t.saving, false);
      try {
        this.data = await call(this, "PUT", "/v1/inbox/preferences", update);
        this.render();
        this.showStatus(this.t.saved, false);
        this.dispatchEvent(new CustomEvent("herald-saved", { bubbles: true, composed: true, detail: update }));
      } catch (error) {
        if (revert) revert();
        const field = error.problem && error.problem.errors && error.problem.errors[0];
        this.showStatus(this.t.saveFailed + (field ? field.reason : error.message), true);
      }
    }

    onChange(event) {
      const target = event.target;
      if (target.matches("input.switch")) {
        const rule = { event_type: target.dataset.type, channel: target.dataset.channel, enabled: target.checked };
        this.save({ rules: [rule] }, () => { target.checked = !target.checked; });
      } else if (target.closest(".quiet")) {
        this.saveQuietHours();
      }
    }

    saveQuietHours() {
      const root = this.shadowRoot;
      const enabled = root.querySelector("#quiet-enabled").checked;
      const start = root.querySelector("#quiet-start").value;
      const end = root.querySelector("#quiet-end").value;
      const timezone = root.querySelector("#quiet-zone").value;
      root.querySelector("#quiet-start").disabled = !enabled;
      root.querySelector("#quiet-end").disabled = !enabled;
      if (enabled && (!start || !end)) return;
      this.save({ timezone, quiet_hours: enabled ? { start, end } : null });
    }

    render() {
      const t = this.t;
      const focusedID = this.shadowRoot.activeElement && this.shadowRoot.activeElement.id;
      const children = [el("h2", { id: "heading", text: t.preferences }), el("p", { class: "intro", text: t.preferencesIntro })];
      if (!this.data) {
        children.push(this.statusLine);
        this.wrap.replaceChildren(...children);
        if (!this.statusLine.textContent) this.showStatus(t.loading, false);
        return;
      }
      for (const category of this.data.categories) {
        const section = el("section", { "aria-labelledby": `category-${category.key}` },
          el("h3", { id: `category-${category.key}`, text: t.category[category.key] || category.key.replace(/_/g, " ") }));
        for (const type of category.event_types) section.append(this.typeRow(type));
        children.push(section);
      }
      children.push(this.quietHours(), this.statusLine);
      this.wrap.replaceChildren(...children);
      if (focusedID) this.shadowRoot.getElementById(focusedID)?.focus();
    }

    typeRow(type) {
      const t = this.t;
      const legendID = `type-${type.key}`;
      const info = el("div", { class: "type" }, el("span", { class: "name", id: legendID, text: type.name }));
      if (type.description) info.append(el("span", { class: "description", text: type.description }));
      let reasonID = null;
      if (type.critical) {
        reasonID = `reason-${type.key}`;
        info.append(el("span", { class: "critical", id: reasonID, text: `${t.alwaysOn}: ${t.criticalReason}` }));
      }
      const toggles = el("div", { class: "toggles" });
      for (const setting of type.channels) {
        const id = `switch-${type.key}-${setting.channel}`;
        const input = el("input", {
          type: "checkbox", role: "switch", class: "switch", id, "data-type": type.key, "data-channel": setting.channel,
          "aria-describedby": reasonID, disabled: !setting.editable, "aria-disabled": !setting.editable ? "true" : null,
        });
        input.checked = setting.enabled;
        const label = el("label", { class: setting.editable ? "toggle" : "toggle locked", for: id, part: "toggle" },
          input, el("span", { text: t.channel[setting.channel] || setting.channel }));
        if (!setting.editable) label.title = t.criticalReason;
        toggles.append(label);
      }
      const group = el("div", { class: "row", role: "group", "aria-labelledby": legendID, "data-type": type.key, part: "event-type" }, info, toggles);
      if (type.channels.some((setting) => setting.source === "unsubscribed" && !setting.enabled)) {
        group.append(el("span", { class: "source", text: t.offFromEmail }));
      }
      return group;
    }

    quietHours() {
      const t = this.t;
      const quiet = this.data.quiet_hours;
      const enabled = el("input", { type: "checkbox", id: "quiet-enabled" });
      enabled.checked = Boolean(quiet);
      const start = el("input", { type: "time", id: "quiet-start", value: quiet ? quiet.start : "22:00", disabled: !quiet });
      const end = el("input", { type: "time", id: "quiet-end", value: quiet ? quiet.end : "07:00", disabled: !quiet });
      const zone = el("select", { id: "quiet-zone" });
      const current = this.data.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [current];
      if (!zones.includes(current)) zones.unshift(current);
      for (const name of zones) {
        const option = el("option", { value: name, text: name.replace(/_/g, " ") });
        if (name === current) option.selected = true;
        zone.append(option);
      }
      return el("section", { class: "quiet", "aria-labelledby": "quiet-heading" },
        el("h3", { id: "quiet-heading", text: t.quietHours }),
        el("p", { text: t.quietHoursIntro }),
        el("label", { class: "check", for: "quiet-enabled" }, enabled, el("span", { text: t.quietEnabled })),
        el("div", { class: "quiet-row" },
          el("label", { class: "field", for: "quiet-start" }, el("span", { text: t.from }), start),
          el("label", { class: "field", for: "quiet-end" }, el("span", { text: t.until }), end),
          el("label", { class: "field", for: "quiet-zone" }, el("span", { text: t.timezone }), zone)));
    }
  }

  customElements.define("herald-inbox", HeraldInbox);
  customElements.define("herald-preferences", HeraldPreferences);
})();
