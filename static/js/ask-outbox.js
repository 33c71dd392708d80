// The outbox of "An authority is asking" alerts (docs/design.md §6), shared by the pages (ask.js)
// and the service worker (sw.js, importScripts): no DOM here. An alert waits in IndexedDB
// (database "a1w-ask") until the server has it, and every replay carries its Idempotency-Key and
// the original tap time, so it never makes a second incident. A Web Lock keeps the page and the
// worker from sending the same alert at the same time.
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

  // Whether this page is a copy the service worker kept (it marks them with Server-Timing
  // "a1w-copy"): true or false, or null when the browser does not say (no Server-Timing).
  function servedCopy() {
    const entry = scope.performance && performance.getEntriesByType
      && performance.getEntriesByType("navigation")[0];
    if (entry && Array.isArray(entry.serverTiming)) {
      return entry.serverTiming.some((timing) => timing.name === "a1w-copy");
    }
    return null;
  }

  scope.A1WAsk = {
    DB_NAME: DB_NAME, SYNC_TAG: SYNC_TAG, CHANNEL: CHANNEL,
    store: store, flush: flush, send: send, registerSync: registerSync,
    isoSeconds: isoSeconds, servedCopy: servedCopy,
  };
})(self);

