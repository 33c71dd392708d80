/* The inspector verifier's service worker, scope /verify/ (apart from the employee app's).
 *
 * - /verify/scan and the files it needs: precached under a versioned cache name; the page is
 *   network-first (so a new version or language shows when online), the files cache-first and
 *   refreshed in the background.
 * - /verify/keys.json and /verify/revoked.json: network-first with the cached copy as fallback.
 *   Stored copies carry X-A1W-Fetched-At (this device's clock at download), and a copy served
 *   from the cache carries X-A1W-From-Cache: 1, so the page can say how old its keys are.
 * - Nothing else is touched: /V/… answers, the /verify lookup (POST) and the API go to the
 *   network and are never stored.
 */
"use strict";

const CACHE_PREFIX = "a1w-verify-";
const CACHE = CACHE_PREFIX + "v1";
const PAGE = "/verify/scan";
const ASSETS = [
  "/static/css/app.css",
  "/static/css/verify.css",
  "/static/css/verify-scan.css",
  "/static/css/print.css",
  "/static/js/verify-core.js",
  "/static/js/verify-scan.js",
  "/static/vendor/jsqr-1.4.0.js",
  "/static/icons/icon.svg",
];
const LISTS = ["/verify/keys.json", "/verify/revoked.json"];
const PAGE_TIMEOUT_MS = 5000; // a slow network: show the saved page rather than wait

function isOk(response) {
  return response && response.ok && response.type === "basic";
}

async function storeList(cache, path, response) {
  const headers = new Headers(response.headers);
  headers.set("X-A1W-Fetched-At", String(Date.now()));
  const body = await response.clone().arrayBuffer();
  await cache.put(path, new Response(body, { status: 200, statusText: "OK", headers }));
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // The page in the language of each open verifier tab, and the plain one.
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      const pages = new Set([PAGE]);
      for (const client of windows) {
        const url = new URL(client.url);
        if (url.origin === self.location.origin && url.pathname === PAGE) pages.add(url.pathname + url.search);
      }
      await cache.addAll([...pages, ...ASSETS].map((url) => new Request(url, { cache: "reload" })));
      // The lists too, so that they are there offline even if the page has not fetched them
      // through this worker yet; not fatal when the network drops now.
      await Promise.all(
        LISTS.map(async (path) => {
          try {
            const response = await fetch(path, { cache: "no-store", credentials: "omit" });
            if (isOk(response)) await storeList(cache, path, response);
          } catch (error) {
            // offline at install: the page keeps its own copy
          }
        })
      );
      await self.skipWaiting();
    })()
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name))
      );
      await self.clients.claim();
    })()
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      }
    );
  });
}

async function page(request, event) {
  const cache = await caches.open(CACHE);
  const url = new URL(request.url);
  const key = url.pathname + url.search;
  const cached = (await cache.match(key)) || (await cache.match(PAGE, { ignoreSearch: true }));
  const network = fetch(request).then(async (response) => {
    if (isOk(response)) await cache.put(key, response.clone());
    return response;
  });
  event.waitUntil(network.catch(() => undefined));
  try {
    return await (cached ? withTimeout(network, PAGE_TIMEOUT_MS) : network);
  } catch (error) {
    return cached || Response.error();
  }
}

async function list(request, path) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (isOk(response)) await storeList(cache, path, response);
    return response;
  } catch (error) {
    const cached = await cache.match(path);
    if (!cached) return Response.error();
    const headers = new Headers(cached.headers);
    headers.set("X-A1W-From-Cache", "1");
    return new Response(await cached.arrayBuffer(), { status: 200, statusText: "OK", headers });
  }
}

async function asset(path, event) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(path);
  const network = fetch(path, { cache: "no-cache" }).then(async (response) => {
    if (isOk(response)) await cache.put(path, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(network.catch(() => undefined)); // refreshed for the next visit
    return cached;
  }
  return network;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === PAGE && request.mode === "navigate") {
    event.respondWith(page(request, event));
  } else if (LISTS.includes(url.pathname)) {
    event.respondWith(list(request, url.pathname));
  } else if (ASSETS.includes(url.pathname) && !url.search) {
    event.respondWith(asset(url.pathname, event));
  }
  // anything else is not ours to answer or to store
});
