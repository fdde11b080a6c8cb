// The web UI offline: the pages, scripts, styles, Leaflet and its vector-tile client (Leaflet.VectorGrid,
// static/vendor/leaflet.vectorgrid) come from a cache named after the
// release (the server puts the version and the file list in self.SAPPER_OFFLINE above this
// code), so a page opens with no network; a new release installs a new cache and deletes the
// old one. What the pages read (the user, the config, the team's hazards and choices) is asked
// of the network first and kept, so the last answer is there when the network is not. Writes
// (POST and the rest) are never touched here: the page's outbox keeps and resends them.
/* global SAPPER_OFFLINE */

const APP = `sapper-app-${SAPPER_OFFLINE.version}`;
const DATA = "sapper-data"; // DATA_CACHE in app.js
const FILES = new Set(SAPPER_OFFLINE.files);
const DATA_PATHS = ["/api/me", "/ui/api/", "/ogc/collections/"];
const KEEPING_PAGES = ["/ui/report"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(APP);
      // "reload": the files as the server has them now, not as an HTTP cache kept them
      await cache.addAll([...FILES].map((url) => new Request(url, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("sapper-app-") && name !== APP) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

function isData(url) {
  return DATA_PATHS.some((path) => url.pathname.startsWith(path));
}

async function fromApp(request, url) {
  const cache = await caches.open(APP);
  const kept = await cache.match(url.pathname);
  return kept || fetch(request);
}

// Only what the report page reads is kept: the map page asks for every view it pans to, which
// would fill the cache without end.
async function keeps(clientId) {
  const client = clientId && (await self.clients.get(clientId));
  return Boolean(client) && KEEPING_PAGES.includes(new URL(client.url).pathname);
}

// The data cache is opened only to keep an answer: opening it on every request would bring it
// back right after a logout deleted it.
async function networkFirst(request, clientId) {
  try {
    const answer = await fetch(request);
    if (answer.ok && (await keeps(clientId))) await (await caches.open(DATA)).put(request, answer.clone());
    return answer;
  } catch (error) {
    const kept = (await caches.has(DATA)) && (await caches.match(request, { cacheName: DATA, ignoreVary: true }));
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (FILES.has(url.pathname) && !url.search) event.respondWith(fromApp(request, url));
  else if (isData(url)) event.respondWith(networkFirst(request, event.clientId));
});
