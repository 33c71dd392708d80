/* A1 Wallet service worker (docs/design.md §5). Served from /sw.js, scope "/".
 * - The app shell is precached at install under a versioned name; old shells go at activate.
 * - Wallet pages, the official PDFs and declaration receipts: network first (3 s), else the copy kept here. Only
 *   answers the server marks "X-A1W-Offline: keep" are kept: an employee's own phone. A sign-in
 *   on a shared device gets no mark, so nothing personal is kept for the next person.
 * - Never handled: logins, POSTs, the consoles, the public verification pages, the API.
 * - Logout wipes the personal copies; an offline logout is finished once the network is back.
 * - "An authority is asking" alerts queued offline (IndexedDB "a1w-ask", same code as the pages:
 *   static/js/ask-outbox.js) are sent on Background Sync "a1w-ask", when a page asks, and when the
 *   worker starts or activates.
 */
"use strict";

const VERSION = "{{ version }}";
const SHELL_CACHE = "a1w-shell-" + VERSION;
const PAGES_CACHE = "a1w-pages";
const META_CACHE = "a1w-meta";
const PENDING_LOGOUT = "/__a1w/pending-logout";
const ASK_OUTBOX_SCRIPT = "{{ url_for('static', filename='js/ask-outbox.js') }}";
// ask-outbox.js is in the shell (web/pwa/routes.py): the worker starts offline too.
const SHELL = {{ shell_urls|tojson }};
const OFFLINE_PAGE = "/offline";
const NETWORK_TIMEOUT_MS = 3000;
// Pages never kept here (login, logout…): a network that hangs rather than fails (a weak signal,
// or Chromium's emulated offline) must still end in the offline page, not in a blank wait.
const UNKEPT_TIMEOUT_MS = 8000;
const NEVER = /^\/(login|logout|admin|support|operator|verify|V|v|api|account|invitation|reset-password|language|push|ask|manifest\.webmanifest|sw\.js)(\/|$|\?)/;
// The same paths as OFFLINE_KEEPABLE (web/auth/routes.py): pages, the PDF, the declaration receipt.
const PERSONAL = /^\/(wallet\/|certificates\/[^/]+\/document$|declarations\/trips\/\d+\/receipt$)/;

try {
  importScripts(ASK_OUTBOX_SCRIPT);  // defines self.A1WAsk (the outbox); the worker works without it
} catch (error) {
  self.A1WAsk = null;
}

// Sends the queued alerts; when some are left (no network, or a sign-in to renew), Background
// Sync tries again once the phone is online. Resolves with the number left.
async function flushAskOutbox(csrf) {
  if (!self.A1WAsk || await pendingLogoutToken()) {
    return 0;
  }
  const result = await self.A1WAsk.flush({csrf: csrf || ""});
  if (result.left > 0) {
    await self.A1WAsk.registerSync(self.registration);
  }
  return result.left;
}

function flushAskOutboxSoon() {
  // Not inside an activate/install waitUntil: a slow network must not hold page loads back.
  setTimeout(() => { flushAskOutbox().catch(() => {}); }, 0);
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("a1w-shell-") && name !== SHELL_CACHE) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
    await finishPendingLogout();
  })());
  flushAskOutboxSoon();
});

flushAskOutboxSoon();  // every start of the worker (it starts for events: a page, a sync, a push)

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
                 (error) => { clearTimeout(timer); reject(error); });
  });
}

async function pendingLogoutToken() {
  const cache = await caches.open(META_CACHE);
  const response = await cache.match(PENDING_LOGOUT);
  return response ? response.text() : null;
}

async function finishPendingLogout() {
  const token = await pendingLogoutToken();
  if (!token) {
    return false;
  }
  try {
    const response = await withTimeout(fetch("/logout/device", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({token: token}),
    }), UNKEPT_TIMEOUT_MS);
    if (response.ok) {
      await caches.delete(META_CACHE);
      return true;
    }
  } catch (error) {
    // Still offline: the next online event, app start or sync tries again.
  }
  return false;
}

async function wipePersonalData(token) {
  await caches.delete(PAGES_CACHE);
  if (token) {
    const cache = await caches.open(META_CACHE);
    // The token can only end this device's sign-in: it is not personal data.
    await cache.put(PENDING_LOGOUT, new Response(token));
  }
  if (self.indexedDB && indexedDB.databases) {
    for (const db of await indexedDB.databases()) {
      await new Promise((resolve) => {
        const request = indexedDB.deleteDatabase(db.name);
        request.onsuccess = request.onerror = request.onblocked = () => resolve();
      });
    }
  }
  if (token && self.registration.sync) {
    try { await self.registration.sync.register("a1w-logout"); } catch (error) { /* not granted */ }
  }
  return finishPendingLogout();
}

async function offlinePage() {
  return (await caches.match(OFFLINE_PAGE)) || new Response("Offline", {status: 503});
}

function isLoginRedirect(response) {
  return response.redirected && new URL(response.url).pathname.startsWith("/login");
}

function signedOut(response) {
  // A wallet GET only redirects when the sign-in is gone (navigations see an opaque redirect).
  return isLoginRedirect(response) || response.type === "opaqueredirect";
}

function keepable(response) {
  return response.ok && response.headers.get("X-A1W-Offline") === "keep";
}

function markedCopy(response) {
  // The page tells a kept copy from a fresh one by this mark (wallet.js: "Last synced").
  const headers = new Headers(response.headers);
  headers.append("Server-Timing", "a1w-copy");
  return new Response(response.body, {status: response.status, statusText: response.statusText, headers: headers});
}

async function networkFirst(request) {
  if (await pendingLogoutToken()) {
    // Logged out while offline. The session cookie is still on the phone, so end the sign-in
    // on the server before anything is fetched with it: else the wallet would come back.
    if (await finishPendingLogout()) {
      try { return await fetch(request); } catch (error) { /* the network went again */ }
    }
    return request.mode === "navigate" ? offlinePage() : Response.error();
  }
  const cache = await caches.open(PAGES_CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (keepable(response) && !isLoginRedirect(response) && request.headers.get("HX-Request") === null) {
      await cache.put(request, response.clone());
    } else if (response.ok) {
      await cache.delete(request, {ignoreVary: true});  // not to be kept (a shared device)
    }
    if (signedOut(response)) {
      await caches.delete(PAGES_CACHE);  // signed out on the server: drop what this phone kept
    }
    return response;
  } catch (error) {
    // The same page in another language (the inspector view's ?lang=) before the offline page.
    const cached = (await cache.match(request, {ignoreVary: true}))
      || (request.mode === "navigate" && await cache.match(request, {ignoreVary: true, ignoreSearch: true}));
    if (cached) {
      return markedCopy(cached);
    }
    return request.mode === "navigate" ? offlinePage() : Response.error();
  }
}

async function navigateUnkept(request) {
  // Login and the like: never kept, but an offline logout is finished first (else the old
  // cookie would send /login straight back to the wallet), and no network means the offline page.
  try {
    await finishPendingLogout();
    return await withTimeout(fetch(request), UNKEPT_TIMEOUT_MS);
  } catch (error) {
    return offlinePage();
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  return cached || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (NEVER.test(url.pathname)) {
    if (request.mode === "navigate") {
      // Not kept here, but a failed navigation still gets the offline page, not an error.
      event.respondWith(navigateUnkept(request));
    }
    return;
  }
  if (PERSONAL.test(url.pathname)) {
    event.respondWith(networkFirst(request));
    return;
  }
  if (SHELL.includes(url.pathname) || url.pathname.startsWith("/static/")) {
    event.respondWith(cacheFirst(request));
  }
});

async function prefetch(urls) {
  if (await pendingLogoutToken()) {
    return 0;
  }
  const cache = await caches.open(PAGES_CACHE);
  let stored = 0;
  for (const url of urls) {
    try {
      const response = await fetch(url, {credentials: "same-origin"});
      if (keepable(response) && !isLoginRedirect(response)) {
        await cache.put(url, response);
        stored += 1;
      }
    } catch (error) {
      // Offline or failed: the page is fetched again on the next visit.
    }
  }
  return stored;
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = (value) => event.ports[0] && event.ports[0].postMessage(value);
  if (data.type === "prefetch" && Array.isArray(data.urls)) {
    event.waitUntil(prefetch(data.urls).then((stored) => reply({stored: stored})));
  } else if (data.type === "wipe") {
    event.waitUntil(wipePersonalData(data.token || "").then((done) => reply({wiped: true, revoked: done})));
  } else if (data.type === "flush-logout") {
    event.waitUntil(finishPendingLogout().then((done) => reply({revoked: done})));
  } else if (data.type === "ask-flush") {
    event.waitUntil(flushAskOutbox(data.csrf).then((left) => reply({left: left}), () => reply({left: -1})));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag === "a1w-logout") {
    event.waitUntil(finishPendingLogout().then((done) => { if (!done) { throw new Error("retry"); } }));
  } else if (event.tag === "a1w-ask" && self.A1WAsk) {
    // A rejection makes the browser try again later, with its own backoff.
    event.waitUntil(self.A1WAsk.flush().then((result) => {
      if (result.left !== 0) {
        throw new Error("a1w-ask: alerts still queued");
      }
    }));
  }
});

// Push (docs/design.md §7): show the notification (Safari ends subscriptions whose pushes show none),
// acknowledge alerts, open the right page on click. Payload: {"title", "body", "url"}.
function sameOriginUrl(url) {
  try {
    const parsed = new URL(url, self.location.origin);
    return parsed.origin === self.location.origin ? parsed.href : self.location.origin + "/";
  } catch (error) {
    return self.location.origin + "/";
  }
}

function acknowledge(url) {
  const match = /[?&]push=([^&#]+)/.exec(url || "");
  if (!match) {
    return Promise.resolve();
  }
  return fetch("/push/ack", {
    method: "POST", credentials: "same-origin", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token: decodeURIComponent(match[1])}),
  }).catch(() => {});
}

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (error) {
    data = {body: event.data ? event.data.text() : ""};
  }
  const url = sameOriginUrl(data.url || "/");
  const shown = self.registration.showNotification(data.title || "A1 Wallet", {
    body: data.body || "",
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/icon-192.png",
    data: {url: url},
  });
  event.waitUntil(shown.then(() => acknowledge(url)));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || self.location.origin + "/";
  event.waitUntil(self.clients.matchAll({type: "window", includeUncontrolled: true}).then((windows) => {
    for (const client of windows) {
      if (client.url === url && "focus" in client) {
        return client.focus();
      }
    }
    return self.clients.openWindow(url);
  }));
});
