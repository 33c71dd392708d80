// "An authority is asking" (docs/design.md §6), the page side: one tap opens the certificate for
// the inspector and alerts support; the status panel follows the alert. The alert itself goes
// through the outbox (ask-outbox.js, loaded before this file; the service worker uses it too):
// sent at once, replayed on `online`, on every app open and by Background Sync.
// (No inline script: the CSP forbids it.)
(function (scope) {
  "use strict";

  if (!scope.A1WAsk || typeof document === "undefined") {
    return;
  }
  const {CHANNEL, store, flush, send, registerSync, isoSeconds} = scope.A1WAsk;

  // --- the page ------------------------------------------------------------------------------

  const body = document.body;
  const swSupported = "serviceWorker" in navigator;

  function pageCsrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // A copy the service worker kept (served offline, or when the network was too slow) carries
  // the CSRF token of the session it was fetched in: use it only as a last resort.
  function freshCsrf() {
    return scope.A1WAsk.servedCopy() === true ? "" : pageCsrf();
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
    const panelNode = document.getElementById("ask-status");  // the employee's language
    return date.toLocaleTimeString((panelNode && panelNode.lang) || document.documentElement.lang || undefined,
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
