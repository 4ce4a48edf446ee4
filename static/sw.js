/* Carnet service worker — served at /sw.js (scope "/").
 *
 * It caches static assets and the offline page, and one page of health data only where the
 * holder asked for it on their own device: the emergency card (CARD_URL, in CARD_CACHE; never
 * on a kiosk, where no worker runs, and never a document). Otherwise no health data:
 *   - install: pre-cache the fixed list below;
 *   - navigations: network only; if the network fails, the cached offline page;
 *   - GET /static/...: cache first (the files are versioned by CACHE_VERSION);
 *   - everything else (pages' fragments, API, downloads, POSTs): not touched,
 *     not cached.
 * Bump CACHE_VERSION whenever a pre-cached file changes.
 *
 * Updates never mix versions: a new worker installs its own cache beside the old one and
 * waits while pages of the old version are open (they keep their files). The first time such
 * a page navigates, app.js tells the new worker to take over and loads that page whole, with
 * the new files; only then is the old cache deleted. The very first install takes over at once
 * (there is no old version to mix with).
 */
"use strict";

const CACHE_VERSION = "carnet-static-v4";
const OFFLINE_URL = "/static/offline.html";
const CARD_CACHE = "carnet-emergency-card";  // blueprints/card/services.py: CACHE_NAME
const CARD_URL = "/carte-urgence/fiche";
const PRECACHE = [
  OFFLINE_URL,
  "/static/css/app.css",
  "/static/css/print.css",
  "/static/css/kiosk.css",
  "/static/css/card.css",
  "/static/js/app.js",
  "/static/js/passkeys.js",
  "/static/js/offline.js",
  "/static/vendor/htmx-2.0.11.min.js",
  "/static/icons/favicon.svg",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/static/icons/icon-maskable-512.png",
  "/static/icons/apple-touch-icon.png",
  "/manifest.webmanifest"
];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE_VERSION);
    // One by one, so a single missing optional file does not break the install;
    // the offline page itself is required.
    await Promise.all(PRECACHE.map(async (url) => {
      try {
        const response = await fetch(url, { cache: "no-cache", credentials: "omit" });
        if (response.ok) await cache.put(url, response);
        else if (url === OFFLINE_URL) throw new Error("offline page missing");
      } catch (error) {
        if (url === OFFLINE_URL) throw error;
      }
    }));
    if (!self.registration.active) await self.skipWaiting();
  })());
});

/* The emergency card, fetched with the holder's session: kept only when the answer is the card
 * itself (not a login page after a logout, not an error). */
async function storeCard() {
  const response = await fetch(CARD_URL, { credentials: "same-origin", cache: "no-store", redirect: "manual" });
  if (!response.ok || response.type !== "basic" || !(response.headers.get("Content-Type") || "").includes("text/html")) {
    return false;
  }
  const cache = await caches.open(CARD_CACHE);
  await cache.put(CARD_URL, response);
  return true;
}

self.addEventListener("message", (event) => {
  const reply = (ok) => { if (event.ports && event.ports[0]) event.ports[0].postMessage({ ok }); };
  if (event.data === "carnet:take-over") {
    self.skipWaiting();
  } else if (event.data === "carnet:card-keep") {
    event.waitUntil(storeCard().then(reply, () => reply(false)));
  } else if (event.data === "carnet:card-refresh") {
    event.waitUntil(caches.has(CARD_CACHE).then((kept) => (kept ? storeCard() : false)).then(reply, () => reply(false)));
  } else if (event.data === "carnet:card-remove") {
    event.waitUntil(caches.delete(CARD_CACHE).then(() => reply(true), () => reply(false)));
  }
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n !== CACHE_VERSION && n !== CARD_CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;

  // Pages: always from the network (they carry health data and are no-store).
  // Only when the network is unreachable, show the static offline page.
  if (request.mode === "navigate") {
    event.respondWith((async () => {
      try {
        return await fetch(request);
      } catch (error) {
        const card = url.pathname === CARD_URL && await caches.match(CARD_URL, { cacheName: CARD_CACHE });
        return card || (await caches.match(OFFLINE_URL, { cacheName: CACHE_VERSION })) || Response.error();
      }
    })());
    return;
  }

  // Static assets: cache first, and only successful, basic (same-origin) answers.
  if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith((async () => {
      const cached = await caches.match(request, { cacheName: CACHE_VERSION });
      if (cached) return cached;
      const response = await fetch(request);
      // Never (re)create this version's cache once a newer worker deleted it.
      if (response.ok && response.type === "basic" && url.pathname.startsWith("/static/")
          && !(response.headers.get("Cache-Control") || "").includes("no-store")
          && await caches.has(CACHE_VERSION)) {
        const cache = await caches.open(CACHE_VERSION);
        await cache.put(request, response.clone());
      }
      return response;
    })());
  }
  // Anything else: not intercepted, never cached.
});
