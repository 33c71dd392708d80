// The rate-limit page: counts down to the time it states (which stands on its own without
// JavaScript), then says the next try is possible. Texts come from the page (translated).
(function () {
  "use strict";
  const node = document.querySelector("[data-retry-at]");
  if (!node) return;
  const retryAt = Number(node.dataset.retryAt) * 1000;
  const format = (seconds) => Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
  function tick() {
    const left = Math.ceil((retryAt - Date.now()) / 1000);
    if (left <= 0) {
      node.textContent = node.dataset.textNow;
      clearInterval(timer);
      return;
    }
    node.textContent = node.dataset.textLeft.split("{time}").join(format(left));
  }
  const timer = setInterval(tick, 1000);
  tick();
})();
