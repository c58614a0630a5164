/* Herald's service worker: shows the notifications Herald sends through Web Push, and opens their link.
   Served by Herald at /embed/herald-sw.js. On your own origin, serve /herald-sw.js with one line:

   importScripts("https://herald.example.com/embed/herald-sw.js");

   and point <herald-inbox push-worker="/herald-sw.js"> at it. A push from Herald carries JSON:
   {"title", "body", "subtitle"?, "url"?, "image"?, "badge"?, "tag"?, "data": {…}, "message_id", "event_type", "critical"}. */
(() => {
  "use strict";
  if (self.__heraldServiceWorker) return;
  self.__heraldServiceWorker = true;

  /** Only http(s) links (relative ones resolve against the worker's scope); anything else opens nothing. */
  function safeLink(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      const parsed = new URL(url, self.registration.scope);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function text(value) {
    return typeof value === "string" ? value : "";
  }

  /** The payload as JSON; a push that is not Herald's JSON still shows (a push must show a notification). */
  function payloadOf(event) {
    if (!event.data) return {};
    try {
      const payload = event.data.json();
      return payload && typeof payload === "object" ? payload : {};
    } catch {
      return { body: event.data.text() };
    }
  }

  function notificationFor(payload) {
    const url = safeLink(payload.url);
    const tag = text(payload.tag);
    const subtitle = text(payload.subtitle);
    const main = text(payload.body);
    const body = subtitle && main ? `${subtitle}\n${main}` : subtitle || main;
    const options = {
      body,
      data: {
        url, message_id: text(payload.message_id), event_type: text(payload.event_type),
        data: payload.data && typeof payload.data === "object" ? payload.data : {},
      },
      requireInteraction: payload.critical === true,
    };
    if (tag) {
      options.tag = tag;
      options.renotify = true;
    }
    const image = safeLink(payload.image);
    if (image) options.image = image;
    return { title: text(payload.title) || "Notification", options };
  }

  self.addEventListener("install", () => self.skipWaiting());
  self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

  self.addEventListener("push", (event) => {
    const payload = payloadOf(event);
    const { title, options } = notificationFor(payload);
    const shown = self.registration.showNotification(title, options);
    // `badge` is the unread count: the app icon's badge where the browser has one.
    const badge = typeof payload.badge === "number" && self.navigator.setAppBadge
      ? self.navigator.setAppBadge(payload.badge).catch(() => {}) : null;
    event.waitUntil(Promise.all([shown, badge]));
  });

  self.addEventListener("notificationclick", (event) => {
    event.notification.close();
    const url = event.notification.data && event.notification.data.url;
    event.waitUntil((async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const target = url || self.registration.scope;
      const open = windows.find((client) => client.url === target) || (url ? null : windows[0]);
      if (open && "focus" in open) return open.focus();
      if (self.clients.openWindow) return self.clients.openWindow(target);
      return null;
    })());
  });
})();
