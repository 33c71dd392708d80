// Notifications on/off for this device (settings pages). Permission is asked only from the
// button's click: browsers (Safari especially) refuse it otherwise.
(function () {
  "use strict";

  const section = document.querySelector("[data-push]");
  if (!section) {
    return;
  }
  const button = section.querySelector(".js-push-toggle");
  const state = section.querySelector(".push-state");
  const labels = section.dataset;

  function say(text) {
    state.textContent = text;
  }

  function base64UrlToBytes(text) {
    const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function send(method, body) {
    return fetch("/push/subscriptions", {
      method: method,
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": window.A1W.csrfToken()},
      body: JSON.stringify(body),
    }).then((response) => {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
    });
  }

  function registration() {
    return navigator.serviceWorker.getRegistration("/").then(
      (found) => found || navigator.serviceWorker.register("/sw.js", {scope: "/"})
    ).then(() => navigator.serviceWorker.ready);
  }

  function refresh() {
    return registration().then((reg) => reg.pushManager.getSubscription()).then((subscription) => {
      button.dataset.subscribed = subscription ? "1" : "";
      button.textContent = subscription ? labels.labelOff : labels.labelOn;
      button.setAttribute("aria-pressed", subscription ? "true" : "false");
      say(subscription ? labels.stateOn : (Notification.permission === "denied" ? labels.stateDenied : labels.stateOff));
      button.hidden = false;
    });
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say(labels.stateUnsupported);
    return;
  }

  button.addEventListener("click", () => {
    button.disabled = true;
    let work;
    if (button.dataset.subscribed) {
      work = registration().then((reg) => reg.pushManager.getSubscription()).then((subscription) => {
        if (!subscription) {
          return null;
        }
        const endpoint = subscription.endpoint;
        return subscription.unsubscribe().then(() => send("DELETE", {endpoint: endpoint}));
      });
    } else {
      work = Notification.requestPermission().then((permission) => {
        if (permission !== "granted") {
          throw new Error("permission " + permission);
        }
        return Promise.all([registration(), fetch("/push/key", {credentials: "same-origin"}).then((r) => r.json())]);
      }).then(([reg, key]) => reg.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key.publicKey),
      })).then((subscription) => send("POST", subscription.toJSON()));
    }
    work.then(refresh).catch(() => {
      say(Notification.permission === "denied" ? labels.stateDenied : labels.stateFailed);
    }).finally(() => { button.disabled = false; });
  });

  refresh().catch(() => say(labels.stateUnsupported));
})();
