// "An authority is asking" (DESIGN §7): one tap opens the certificate for the inspector and
// alerts support. The alert waits in an IndexedDB outbox (database "a1w-ask") until the server
// has it: it is sent at once, replayed on `online`, on every app open and by Background Sync,
// always with its Idempotency-Key and the original tap time, so a replay never makes a second
// incident. The service worker loads this file too (importScripts) and uses the same outbox code;
// a Web Lock keeps the page and the worker from sending the same alert at the same time.
// (No inline script: the CSP forbids it.)
(function (scope) {
  "use strict";

  const DB_NAME = "a1w-ask";
  const DB_VERSION = 1;
  const OUTBOX = "outbox";
  const SENT = "sent";
  const LOCK = "a1w-ask-outbox";
  const SYNC_TAG = "a1w-ask";
  const CHANNEL = "a1w-ask";
  const ENDPOINT = "/ask";
  const TOKEN_PAGE = "/wallet/ask/none";
  const SEND_TIMEOUT_MS = 15000;
  const SENT_KEPT_MS = 7 * 24 * 3600 * 1000;  // the key → incident map, for the status panel

  // --- the outbox (page and service worker) --------------------------------------------------

  // Resolves with the database, or with null when it does not exist and `create` is false:
  // reading an empty outbox must not leave a database behind on every page (or after a logout).
  function openDb(create) {
    return new Promise((resolve, reject) => {
      let absent = false;
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) => {
        if (!create && event.oldVersion === 0) {
          absent = true;
          request.transaction.abort();
          return;
        }
        const db = request.result;
        if (!db.objectStoreNames.contains(OUTBOX)) {
          db.createObjectStore(OUTBOX, {keyPath: "key"});
        }
        if (!db.objectStoreNames.contains(SENT)) {
          db.createObjectStore(SENT, {keyPath: "key"});
        }
      };
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => db.close();  // a logout deletes the database: never block it
        resolve(db);
      };
      request.onerror = (event) => {
        if (absent) {
          event.preventDefault();
          resolve(null);
        } else {
          reject(request.error);
        }
      };
      request.onblocked = () => reject(new Error("a1w-ask: database blocked"));
    });
  }

  // One transaction over `names`; `body(tx, out)` issues the requests and may set out.value.
  // Resolves with out.value once the transaction has committed (with `empty` when there is no
  // database and `create` is false).
  function transact(names, mode, body, options) {
    const opts = options || {};
    return openDb(Boolean(opts.create)).then((db) => new Promise((resolve, reject) => {
      if (!db) {
        resolve(opts.empty);
        return;
      }
      const out = {value: undefined};
      let tx;
      try {
        tx = db.transaction(names, mode);
      } catch (error) {
        db.close();
        reject(error);
        return;
      }
      tx.oncomplete = () => { db.close(); resolve(out.value); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error || new Error("a1w-ask: aborted")); };
      body(tx, out);
    }));
  }

  const store = {
    add(record) {
      return transact([OUTBOX], "readwrite", (tx) => { tx.objectStore(OUTBOX).put(record); },
        {create: true});
    },
    queued() {
      return transact([OUTBOX], "readonly", (tx, out) => {
        const request = tx.objectStore(OUTBOX).getAll();
        request.onsuccess = () => { out.value = request.result || []; };
      }, {empty: []});
    },
    find(key) {
      return transact([OUTBOX, SENT], "readonly", (tx, out) => {
        out.value = {queued: null, sent: null};
        const queued = tx.objectStore(OUTBOX).get(key);
        queued.onsuccess = () => { out.value.queued = queued.result || null; };
        const sent = tx.objectStore(SENT).get(key);
        sent.onsuccess = () => { out.value.sent = sent.result || null; };
      }, {empty: {queued: null, sent: null}});
    },
    markSent(record, incident) {
      const now = Date.now();
      return transact([OUTBOX, SENT], "readwrite", (tx) => {
        tx.objectStore(OUTBOX).delete(record.key);
        const sent = tx.objectStore(SENT);
        sent.put({
          key: record.key,
          incidentId: incident.id,
          createdAt: incident.created_at || null,
          tappedAt: incident.tapped_at || record.body.tapped_at,
          sentAt: now,
        });
        const old = sent.openCursor();
        old.onsuccess = () => {
          const cursor = old.result;
          if (cursor) {
            if (cursor.value.sentAt && now - cursor.value.sentAt > SENT_KEPT_MS) {
              cursor.delete();
            }
            cursor.continue();
          }
        };
      });
    },
    markRefused(record, errors) {
      return transact([OUTBOX, SENT], "readwrite", (tx) => {
        tx.objectStore(OUTBOX).delete(record.key);
        tx.objectStore(SENT).put({
          key: record.key, incidentId: null, refused: errors || {}, sentAt: Date.now(),
          tappedAt: record.body.tapped_at,
        });
      });
    },
    // A page of the current session has a CSRF token that works; the one stored at the tap may
    // be from a session that ended when the browser was closed.
    refreshCsrf(token) {
      return transact([OUTBOX], "readwrite", (tx) => {
        const request = tx.objectStore(OUTBOX).openCursor();
        request.onsuccess = () => {
          const cursor = request.result;
          if (cursor) {
            if (cursor.value.csrf !== token) {
              cursor.update(Object.assign({}, cursor.value, {csrf: token}));
            }
            cursor.continue();
          }
        };
      });
    },
  };

  function withLock(work) {
    const locks = scope.navigator && scope.navigator.locks;
    if (locks && typeof locks.request === "function") {
      return locks.request(LOCK, work);
    }
    return work();
  }

  function announce(message) {
    if (typeof BroadcastChannel === "undefined") {
      return;
    }
    try {
      const channel = new BroadcastChannel(CHANNEL);
      channel.postMessage(message);
      channel.close();
    } catch (error) { /* nobody listens: the panel reads the database too */ }
  }

  function post(record, csrf, keepalive) {
    const abort = typeof AbortController === "undefined" ? null : new AbortController();
    const timer = abort ? setTimeout(() => abort.abort(), SEND_TIMEOUT_MS) : null;
    return fetch(ENDPOINT, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",  // a redirect to the login page is no answer from /ask
      cache: "no-store",
      keepalive: Boolean(keepalive),
      signal: abort ? abort.signal : undefined,
      headers: {
        "Idempotency-Key": record.key,
        "X-CSRFToken": csrf || "",
        "Content-Type": "application/json",
        "Accept": "application/json",
      },
      body: JSON.stringify(record.body),
    }).finally(() => { if (timer) { clearTimeout(timer); } });
  }

  function isoSeconds(date) {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z");  // 2026-11-22T10:42:05Z
  }

  // The server refused a field (422). The alert matters more than the detail: without a
  // certificate of ours, or a location, it still goes. A tap time refused because the phone's
  // clock is wrong is moved onto the server's clock, keeping the time elapsed since the tap;
  // one refused as too old (the server keeps 7 days) is given up. Returns the mended record,
  // or null when there is nothing to mend.
  function mend(record, errors, serverDate) {
    const fields = Object.keys(errors || {});
    const mendable = ["certificate_id", "latitude", "longitude", "tapped_at"];
    if (!fields.length || fields.some((field) => !mendable.includes(field))) {
      return null;
    }
    const body = Object.assign({}, record.body);
    if (fields.includes("certificate_id")) {
      body.certificate_id = null;
    }
    if (fields.includes("latitude") || fields.includes("longitude")) {
      body.latitude = null;
      body.longitude = null;
    }
    if (fields.includes("tapped_at")) {
      const serverNow = Date.parse(serverDate || "");
      const elapsed = Date.now() - (record.createdAt || Date.now());
      const tapped = serverNow - elapsed;
      if (Number.isNaN(serverNow) || elapsed > 7 * 24 * 3600 * 1000 - 60000) {
        return null;
      }
      const mended = isoSeconds(new Date(tapped));
      if (mended === body.tapped_at) {
        return null;
      }
      body.tapped_at = mended;
    }
    return Object.assign({}, record, {body: body});
  }

  // The CSRF token of the current session, read from a small wallet page ("" if none: signed
  // out, or no network). Works in the service worker too (no DOM there: a regular expression).
  function sessionCsrf() {
    return fetch(TOKEN_PAGE, {
      credentials: "same-origin", redirect: "manual", cache: "no-store",
      headers: {"Accept": "text/html"},
    }).then((response) => (response.ok ? response.text() : "")).then((html) => {
      const match = /<meta name="csrf-token" content="([^"]+)"/.exec(html);
      return match ? match[1] : "";
    }, () => "");
  }

  // Sends one alert. Resolves with {incident} once the server has it (and the outbox no longer
  // does), {offline: true} when the network failed, {refused: true} when the server will never
  // take it (then it leaves the outbox), or {status} when the server said no for now: the alert
  // stays queued (a stale CSRF token or an ended sign-in is mended by the next page opened).
  async function send(original, options) {
    let record = original;
    const tokens = [];
    for (const token of [options.csrf, record.csrf]) {
      if (token && !tokens.includes(token)) {
        tokens.push(token);
      }
    }
    if (!tokens.length) {
      tokens.push("");
    }
    let tokenIndex = 0;
    let mended = false;
    let refreshed = false;
    let status = 0;
    for (let attempt = 0; attempt < 5; attempt += 1) {
      let response;
      try {
        response = await post(record, tokens[tokenIndex], options.keepalive);
      } catch (error) {
        return {offline: true};
      }
      status = response.status;
      let answer = null;
      if (status === 200 || status === 201 || status === 422) {
        try {
          answer = await response.json();
        } catch (error) { /* not the answer of /ask */ }
      }
      if ((status === 200 || status === 201) && answer && answer.id !== undefined && answer.id !== null) {
        if (options.stored !== false) {
          await store.markSent(record, answer);
        }
        announce({type: "sent", key: record.key, incident: answer});
        return {incident: answer};
      }
      if (status === 400 && tokenIndex + 1 < tokens.length) {
        tokenIndex += 1;  // a refused CSRF token: the other one
        continue;
      }
      if (status === 400 && !refreshed) {
        // Every token refused: the session they belong to ended (the browser was closed). A
        // wallet page of the new session (the remember-me cookie signs in again) has one.
        refreshed = true;
        const token = await sessionCsrf();
        if (token && !tokens.includes(token)) {
          tokens.push(token);
          tokenIndex = tokens.length - 1;
          if (options.stored !== false) {
            await store.refreshCsrf(token).catch(() => {});
          }
          continue;
        }
      }
      if (status === 422 && !mended) {
        const fixed = mend(record, answer && answer.errors, response.headers.get("Date"));
        if (fixed) {
          mended = true;
          record = fixed;
          if (options.stored !== false) {
            await store.add(record).catch(() => {});
          }
          continue;
        }
      }
      if (status === 422) {
        if (options.stored !== false) {
          await store.markRefused(record, answer && answer.errors).catch(() => {});
        }
        announce({type: "refused", key: record.key});
        return {refused: true};
      }
      break;
    }
    return {status: status};
  }

  // Sends every queued alert, oldest first. Resolves with {sent, left}; left is -1 when the
  // outbox cannot be read at all.
  function flush(options) {
    const opts = options || {};
    return withLock(async () => {
      let records;
      try {
        records = await store.queued();
      } catch (error) {
        return {sent: 0, left: -1};
      }
      records.sort((a, b) => (a.createdAt || 0) - (b.createdAt || 0));
      let sent = 0;
      let left = 0;
      for (let i = 0; i < records.length; i += 1) {
        const result = await send(records[i], opts);
        if (result.incident) {
          sent += 1;
        } else if (result.offline) {
          left += records.length - i;  // no network: the others would fail the same way
          break;
        } else if (!result.refused) {  // a refused one has left the outbox for good
          left += 1;
        }
      }
      return {sent: sent, left: left};
    });
  }

  function registerSync(registration) {
    if (!registration || !registration.sync) {
      return Promise.resolve(false);
    }
    return registration.sync.register(SYNC_TAG).then(() => true, () => false);
  }

  const api = {
    DB_NAME: DB_NAME, SYNC_TAG: SYNC_TAG, CHANNEL: CHANNEL,
    store: store, flush: flush, send: send, registerSync: registerSync,
  };
  scope.A1WAsk = api;

  if (typeof document === "undefined") {
    return;  // the service worker: the outbox only
  }

  // --- the page ------------------------------------------------------------------------------

  const body = document.body;
  const swSupported = "serviceWorker" in navigator;

  function pageCsrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // A copy the service worker kept (served offline, or when the network was too slow) carries
  // the CSRF token of the session it was fetched in: use it only as a last resort.
  function isKeptCopy() {
    const entry = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    return Boolean(entry && Array.isArray(entry.serverTiming)
      && entry.serverTiming.some((timing) => timing.name === "a1w-copy"));
  }

  function freshCsrf() {
    return isKeptCopy() ? "" : pageCsrf();
  }

  function newKey() {
    if (scope.crypto && typeof scope.crypto.randomUUID === "function") {
      return scope.crypto.randomUUID();
    }
    const bytes = scope.crypto.getRandomValues(new Uint8Array(16));  // RFC 4122 version 4
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-"
      + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function workerRegistration() {
    if (!swSupported) {
      return Promise.resolve(null);
    }
    return Promise.race([navigator.serviceWorker.ready, sleep(3000).then(() => null)]);
  }

  function syncLater() {
    return workerRegistration().then(registerSync);
  }

  // Replays the outbox from this page (app open, `online`). Resolves with flush()'s result.
  function replay() {
    if (!navigator.onLine) {
      syncLater();
      return Promise.resolve({sent: 0, left: 0, offline: true});
    }
    const token = freshCsrf();
    const refreshed = token ? store.refreshCsrf(token).catch(() => {}) : Promise.resolve();
    return refreshed.then(() => flush({csrf: token})).then((result) => {
      if (result.left > 0) {
        syncLater();
      }
      return result;
    }, () => ({sent: 0, left: -1}));
  }

  // Location, only with the employee's consent, and never waited for: a fix taken when the
  // page opened (the permission was granted before, in settings) goes with the alert.
  const locationConsent = body.dataset.locationConsent === "1" && "geolocation" in navigator;
  let lastPosition = null;
  let locationGranted = null;  // true once the Permissions API says "granted"

  function readPosition(options) {
    return new Promise((resolve) => {
      navigator.geolocation.getCurrentPosition((position) => {
        lastPosition = position;
        resolve(position);
      }, () => resolve(null), options);
    });
  }

  function warmLocation() {
    if (!locationConsent) {
      return;
    }
    const query = navigator.permissions && navigator.permissions.query
      ? navigator.permissions.query({name: "geolocation"}).then((status) => status.state, () => null)
      : Promise.resolve(null);
    query.then((state) => {
      locationGranted = state === null ? null : state === "granted";
      if (state === "granted") {
        readPosition({maximumAge: 300000, timeout: 10000, enableHighAccuracy: false});
      }
    });
  }

  async function tapPosition() {
    if (!locationConsent || locationGranted !== true) {
      return null;  // never a permission prompt in front of the inspector
    }
    if (lastPosition && Date.now() - lastPosition.timestamp < 600000) {
      return lastPosition;
    }
    // No fix yet: a cached one may come at once; never more than a moment's wait.
    return Promise.race([
      readPosition({maximumAge: 600000, timeout: 1000, enableHighAccuracy: false}),
      sleep(150).then(() => null),
    ]);
  }

  function askUrl(link, key) {
    const url = new URL(link.getAttribute("href") || "/wallet/ask/none", location.href);
    url.hash = "ask=" + key;
    return url.href;
  }

  let tapping = false;

  async function tap(link) {
    if (tapping) {
      return;  // a double tap is one alert
    }
    tapping = true;
    const tappedAt = new Date();
    const key = newKey();
    const position = await tapPosition();
    const record = {
      key: key,
      body: {
        certificate_id: link.dataset.certificateId || null,
        latitude: position ? position.coords.latitude : null,
        longitude: position ? position.coords.longitude : null,
        tapped_at: isoSeconds(tappedAt),
      },
      csrf: pageCsrf(),
      createdAt: tappedAt.getTime(),
    };
    // The outbox first (a few milliseconds), so nothing is lost when this page goes away.
    const stored = await Promise.race([
      store.add(record).then(() => true, () => false),
      sleep(500).then(() => false),
    ]);
    const worker = swSupported ? navigator.serviceWorker.controller : null;
    if (stored && worker) {
      // The worker outlives this page: it sends, records the incident and tells the next page.
      worker.postMessage({type: "ask-flush", csrf: freshCsrf()});
    } else if (stored) {
      flush({csrf: freshCsrf(), keepalive: true});
    } else {
      send(record, {csrf: freshCsrf(), keepalive: true, stored: false});  // no IndexedDB here
    }
    if (!navigator.onLine) {
      syncLater();
    }
    location.assign(askUrl(link, key));
  }

  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("[data-ask]");
    if (!link || event.button !== 0) {
      return;
    }
    event.preventDefault();
    tap(link).catch(() => { location.assign(link.href); });
  });

  // --- the status panel (inspector view) ----------------------------------------------------

  function timeOf(value) {
    if (!value) {
      return "";
    }
    const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : value + "Z";  // naive means UTC
    const date = new Date(text);
    if (Number.isNaN(date.getTime())) {
      return "";
    }
    return date.toLocaleTimeString(document.documentElement.lang || undefined,
      {hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
  }

  // Fills the panel for the alert `key`; returns a function that reads its state again.
  function showPanel(panel, key) {
    const labels = panel.dataset;
    const state = panel.querySelector(".ask-state");
    const contact = panel.querySelector(".ask-contact");
    let message = panel.querySelector(".ask-message");
    let incident = null;      // {id, created_at, tapped_at}
    let lastStatus = null;
    let pollTimer = null;
    let delay = 2000;

    panel.hidden = false;

    // The SMS to support, with the certificate's verification code.
    const sms = panel.querySelector(".ask-sms");
    if (sms) {
      const codeNode = document.querySelector(".verification-code");
      const code = codeNode ? codeNode.textContent.trim() : "";
      const template = labels.smsBodyTemplate || "";
      const text = (code ? template.replace(/\{code\}/g, code) : template.replace(/\s*\{code\}/g, "")).trim();
      const phone = (labels.supportPhone || "").replace(/[^+\d]/g, "")
        || (sms.getAttribute("href") || "").replace(/^sms:/, "").split("?")[0];
      sms.setAttribute("href", "sms:" + phone + (text ? "?body=" + encodeURIComponent(text) : ""));
    }

    // The inspector's language links keep the panel (they would drop the #ask= part).
    for (const link of document.querySelectorAll(".language-links a[href]")) {
      const url = new URL(link.getAttribute("href"), location.href);
      url.hash = "ask=" + key;
      link.setAttribute("href", url.pathname + url.search + url.hash);
    }

    function say(stage, text) {
      panel.dataset.askState = stage;
      panel.classList.toggle("is-waiting", stage === "waiting");
      // While the alert waits, calling or texting support comes first.
      if (contact && state) {
        if (stage === "waiting" || stage === "unknown") {
          if (contact.nextElementSibling !== state) {
            panel.insertBefore(contact, state);
          }
        } else if (state.nextElementSibling !== contact) {
          panel.insertBefore(state, contact);
        }
      }
      if (state && state.textContent !== text) {
        state.textContent = text;
      }
    }

    function sayMessage(text) {
      if (!text) {
        if (message) {
          message.hidden = true;
        }
        return;
      }
      if (!message) {
        message = document.createElement("p");
        message.className = "ask-message";
        (state || panel).insertAdjacentElement("afterend", message);
      }
      message.hidden = false;
      message.textContent = text;
    }

    function render(status) {
      const alertedAt = timeOf(incident.created_at || status.tapped_at || incident.tapped_at);
      const sent = (labels.labelSent || "").replace("{time}", alertedAt);
      if (status.status === "resolved") {
        say("resolved", (labels.labelResolved || "")
          .replace("{name}", status.handled_by || "").replace("{time}", timeOf(status.resolved_at)));
        sayMessage(status.message || "");
      } else if (status.status === "acknowledged" && status.handled_by) {
        say("handling", (labels.labelHandling || "").replace("{name}", status.handled_by));
      } else {
        say("sent", sent);
      }
    }

    function schedule() {
      clearTimeout(pollTimer);
      if (lastStatus === "resolved") {
        return;
      }
      pollTimer = setTimeout(poll, delay);
      delay = Math.min(delay * 2, 30000);
    }

    function poll() {
      if (!incident || lastStatus === "resolved") {
        return;
      }
      if (!navigator.onLine) {
        return;  // polled again on `online`
      }
      fetch("/ask/" + encodeURIComponent(incident.id) + "/status", {
        credentials: "same-origin", cache: "no-store", redirect: "manual",
        headers: {"Accept": "application/json"},
      }).then((response) => {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      }).then((status) => {
        if (status.status !== lastStatus) {
          delay = 2000;  // something moves: look again soon
        }
        lastStatus = status.status;
        render(status);
        schedule();
      }).catch(schedule);
    }

    function onSent(found) {
      if (incident) {
        return;
      }
      incident = found;
      render({status: "new", tapped_at: found.tapped_at});
      delay = 2000;
      schedule();
    }

    function lookUp() {
      return store.find(key).then((found) => {
        if (found.sent && found.sent.incidentId !== null && found.sent.incidentId !== undefined) {
          onSent({id: found.sent.incidentId, created_at: found.sent.createdAt, tapped_at: found.sent.tappedAt});
        } else if (found.queued) {
          say("waiting", labels.labelWaiting || "");
        } else if (!incident) {
          say("unknown", "");  // not from this phone (or wiped): the phone links still work
        }
        return found;
      }, () => {
        if (!incident) {
          say("unknown", "");
        }
      });
    }

    if (typeof BroadcastChannel !== "undefined") {
      const channel = new BroadcastChannel(CHANNEL);
      channel.onmessage = (event) => {
        const data = event.data || {};
        if (data.type === "sent" && data.key === key && data.incident) {
          onSent(data.incident);
        } else if (data.type === "refused" && data.key === key) {
          lookUp();
        }
      };
    }
    window.addEventListener("online", () => {
      if (incident) {
        delay = 2000;
        poll();
      }
    });
    return lookUp;
  }

  // App open, and the network back: anything still queued goes now. On the inspector view
  // right after a tap this usually waits for the worker (the lock), then finds nothing to send.
  const keyMatch = /(?:^#|&)ask=([0-9a-fA-F-]{36})(?:&|$)/.exec(location.hash);
  const panel = document.getElementById("ask-status");
  const refreshPanel = keyMatch && panel ? showPanel(panel, keyMatch[1].toLowerCase()) : null;

  function appOpen() {
    return replay().then((result) => {
      if (refreshPanel) {
        refreshPanel();
      }
      return result;
    });
  }

  if (refreshPanel) {
    refreshPanel().then(appOpen);  // "waiting" at once when queued, then send
  } else {
    appOpen();
  }
  window.addEventListener("online", appOpen);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      appOpen();
    }
  });
  warmLocation();
})(self);
