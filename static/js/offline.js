// The offline page goes back to what was asked for once the network is back: on the browser's
// "online" event, and — when the browser already says it is online (the worker answered a moment
// before the network returned: a weak signal, a tunnel) — by trying again a few times.
(() => {
  "use strict";
  const again = () => window.location.reload();
  window.addEventListener("online", again, {once: true});
  if (!navigator.onLine) {
    return;
  }
  const KEY = "a1w-offline-retries";  // times of the recent tries: at most 3 a minute
  const now = Date.now();
  let tries = [];
  try {
    tries = JSON.parse(sessionStorage.getItem(KEY) || "[]").filter((t) => now - t < 60000);
    if (tries.length >= 3) {
      return;
    }
    tries.push(now);
    sessionStorage.setItem(KEY, JSON.stringify(tries));
  } catch (error) {
    return;  // no storage: no automatic tries, the page's own buttons remain
  }
  setTimeout(again, 3000);
})();
