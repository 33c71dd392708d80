// The employee's wallet in the browser: the service worker, offline status, logout that wipes
// the phone even offline, the screen kept on for inspectors, the install hint. (No inline script.)
(function () {
  "use strict";

  const body = document.body;
  const swSupported = "serviceWorker" in navigator;
  const PENDING_LOGOUT_KEY = "a1w-pending-logout";
  const BRIGHTNESS_KEY = "a1w-brightness-hint";

  function askWorker(message, timeoutMs) {
    // Resolves with the worker's reply, or null when there is no worker to ask (or, given a
    // timeout, when none answers in time: `ready` never resolves if the worker never installed).
    if (!swSupported) {
      return Promise.resolve(null);
    }
    const asked = navigator.serviceWorker.ready.then((registration) => new Promise((resolve) => {
      const worker = navigator.serviceWorker.controller || registration.active;
      if (!worker) {
        resolve(null);
        return;
      }
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => resolve(event.data);
      worker.postMessage(message, [channel.port2]);
    }));
    if (!timeoutMs) {
      return asked;
    }
    return Promise.race([asked, new Promise((resolve) => setTimeout(() => resolve(null), timeoutMs))]);
  }
  window.A1WWallet = {askWorker: askWorker};

  if (swSupported && body.hasAttribute("data-pwa")) {
    navigator.serviceWorker.register("/sw.js", {scope: "/"}).catch(() => {});
  }

  // Keep the certificates on the phone: ask the browser not to evict them.
  if (navigator.storage && navigator.storage.persist && body.hasAttribute("data-pwa")) {
    navigator.storage.persist().catch(() => {});
  }

  // After login the worker fetches every current certificate, so they open offline at once, and
  // this page too: the first one after login loads before the worker controls it, so the worker
  // never saw it go by.
  const offlineList = document.getElementById("offline-urls");
  if (offlineList) {
    const urls = [window.location.pathname].concat(JSON.parse(offlineList.dataset.urls || "[]"));
    askWorker({type: "prefetch", urls: urls}).then((reply) => {
      if (reply) {
        document.documentElement.dataset.prefetched = String(reply.stored);
      }
    });
  }

  // "Last synced …" and the offline badge, from when the server rendered this page. The worker
  // marks the copies it serves (Server-Timing "a1w-copy"); browsers without Server-Timing fall
  // back to the page's age. Decided once: a fresh page left open does not turn "offline".
  const status = document.getElementById("sync-status");
  const servedCopy = status ? isKeptCopy(new Date(status.dataset.renderedAt)) : false;
  function isKeptCopy(renderedAt) {
    const marked = window.A1WAsk ? window.A1WAsk.servedCopy() : null;  // ask-outbox.js
    return marked === null ? Date.now() - renderedAt.getTime() > 30000 : marked;
  }
  function showSyncStatus() {
    if (!status) {
      return;
    }
    const renderedAt = new Date(status.dataset.renderedAt);
    const offline = !navigator.onLine || servedCopy;
    const when = renderedAt.toLocaleString(document.documentElement.lang || undefined,
      {dateStyle: "medium", timeStyle: "short"});
    status.querySelector(".synced-at").textContent = status.dataset.labelSynced.replace("{time}", when);
    status.querySelector(".offline-badge").hidden = !offline;
    status.hidden = !offline;
    status.classList.toggle("is-offline", offline);
  }
  showSyncStatus();
  window.addEventListener("online", showSyncStatus);
  window.addEventListener("offline", showSyncStatus);

  // Logout: online the server clears the phone (Clear-Site-Data); offline the worker does,
  // and ends the sign-in on the server as soon as the network is back.
  const logoutToken = body.dataset.logoutToken || "";
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.classList || !form.classList.contains("logout-form")) {
      return;
    }
    if (navigator.onLine) {
      askWorker({type: "wipe", token: ""});  // belt and braces; the server clears too
      return;
    }
    event.preventDefault();
    logoutOffline().then(() => window.location.replace("/login"));
  });

  function logoutOffline() {
    try { localStorage.clear(); sessionStorage.clear(); } catch (error) { /* private mode */ }
    // The worker wipes and keeps the token; if none answers in time, the page wipes what it can
    // (not both at once: two deletions of one IndexedDB database queue behind each other).
    return askWorker({type: "wipe", token: logoutToken}, 3000).then((reply) => {
      if (reply) {
        return null;
      }
      if (logoutToken) {
        // No worker: remember the token alone so the next online page can finish the logout.
        try { localStorage.setItem(PENDING_LOGOUT_KEY, logoutToken); } catch (error) { /* ignore */ }
      }
      return wipeHere();
    });
  }

  function wipeHere() {
    const jobs = [];
    if (window.caches) {
      jobs.push(caches.delete("a1w-pages").catch(() => {}));
    }
    if (window.indexedDB && indexedDB.databases) {
      jobs.push(indexedDB.databases().then((list) => Promise.all(list.map((db) => new Promise((resolve) => {
        const request = indexedDB.deleteDatabase(db.name);
        request.onsuccess = request.onerror = request.onblocked = () => resolve();
      })))).catch(() => {}));
    }
    return Promise.all(jobs);
  }

  function flushPendingLogout() {
    askWorker({type: "flush-logout"}, 5000);
    let token = null;
    try { token = localStorage.getItem(PENDING_LOGOUT_KEY); } catch (error) { /* ignore */ }
    if (token && navigator.onLine) {
      fetch("/logout/device", {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({token: token}),
      }).then((response) => {
        if (response.ok) {
          try { localStorage.removeItem(PENDING_LOGOUT_KEY); } catch (error) { /* ignore */ }
          window.location.replace("/login");
        }
      }).catch(() => {});
    }
  }
  window.addEventListener("online", flushPendingLogout);
  flushPendingLogout();

  // A page restored from the back-forward cache after a logout must not show personal data.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && body.hasAttribute("data-pwa")) {
      window.location.reload();
    }
  });

  // The inspector view keeps the screen on while it is open.
  if (body.hasAttribute("data-wake-lock") && "wakeLock" in navigator) {
    let lock = null;
    const acquire = () => navigator.wakeLock.request("screen").then((l) => { lock = l; }).catch(() => {});
    acquire();
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && (!lock || lock.released)) {
        acquire();
      }
    });
  }

  // Once, the first time the inspector view opens: turn the brightness up (no web API can).
  const brightnessHint = document.querySelector(".brightness-hint");
  if (brightnessHint) {
    let seen = "1";
    try { seen = localStorage.getItem(BRIGHTNESS_KEY); } catch (error) { /* private mode */ }
    if (!seen) {
      brightnessHint.hidden = false;
      try { localStorage.setItem(BRIGHTNESS_KEY, "1"); } catch (error) { /* ignore */ }
      brightnessHint.querySelector("button").addEventListener("click", () => { brightnessHint.hidden = true; });
    }
  }

  // Sign out asks first: it wipes the copies this phone keeps for offline use. The form stays a
  // CSRF POST; the dialog's button submits it.
  const signOutDialog = document.getElementById("sign-out-dialog");
  if (signOutDialog && typeof signOutDialog.showModal === "function") {
    let confirmed = false;
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (!form.classList || !form.classList.contains("logout-form") || confirmed
          || signOutDialog.contains(form)) {
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();  // the logout handler below runs on the confirmed submit
      signOutDialog.showModal();
    }, true);
    signOutDialog.querySelector(".js-cancel").addEventListener("click", () => signOutDialog.close());
  }

  // Install: the browser's own prompt where there is one; short Home Screen steps in iPhone
  // Safari (not installed yet). (`hidden` is toggled on the rows: .button would override it.)
  let installPrompt = null;
  const installButtons = document.querySelectorAll(".js-install");
  const installRows = document.querySelectorAll(".js-install-row");
  const menuHints = document.querySelectorAll(".menu-install-hint");
  const installedHints = document.querySelectorAll(".installed-hint");
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    installPrompt = event;
    installRows.forEach((row) => { row.hidden = false; });
    menuHints.forEach((hint) => { hint.hidden = true; });
  });
  installButtons.forEach((button) => button.addEventListener("click", () => {
    if (installPrompt) {
      installPrompt.prompt();
      installPrompt = null;
      installRows.forEach((row) => { row.hidden = true; });
    }
  }));
  window.addEventListener("appinstalled", () => {
    installRows.forEach((row) => { row.hidden = true; });
    menuHints.forEach((hint) => { hint.hidden = true; });
    installedHints.forEach((hint) => { hint.hidden = false; });
  });
  const standalone = navigator.standalone === true
    || (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
  const iosSafari = /iPhone|iPad|iPod/.test(navigator.userAgent) && !/CriOS|FxiOS|EdgiOS/.test(navigator.userAgent);
  document.querySelectorAll(".ios-install-hint").forEach((hint) => {
    hint.hidden = !iosSafari || standalone;
  });
  // Installed (opened from the home screen): say so instead of how to install.
  menuHints.forEach((hint) => { hint.hidden = hint.hidden || iosSafari || standalone; });
  installedHints.forEach((hint) => { hint.hidden = !standalone; });
})();
