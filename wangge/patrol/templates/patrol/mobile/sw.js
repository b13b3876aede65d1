// The field app's service worker: keeps the app shell for offline use and the last copy of
// GET API answers (today's lists). Writes never go through here: the app queues them itself.
const CACHE = "wangge-m-{{ version }}";
const SHELL = {{ shell|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("wangge-m-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const isShell = SHELL.includes(url.pathname);
  const isApi = url.pathname.startsWith("/api/v1/");
  if (!isShell && !isApi) return;
  // Network first (fresh data when there is a signal), the cached copy when there is none.
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() => caches.match(request, { ignoreVary: true }).then((hit) => hit || Response.error()))
  );
});
