"""Requests per minute, per API key (its client's rate) and, for reads without a key, per client
address (settings.OPEN311_ANONYMOUS_RATE_PER_MINUTE).

A fixed one-minute window counted in Django's cache (cache.add + cache.incr). With the default
per-process memory cache every process counts on its own, so N web processes let N × the rate
through; set a shared cache (Redis, or the database cache) in CACHES for an exact limit."""

import time

from django.core.cache import cache

WINDOW = 60


def retry_after(bucket: str, rate: int) -> int | None:
    """Count one request in the bucket; None when allowed, else the seconds until the next window."""
    if rate <= 0:
        return None
    now = time.time()
    window = int(now // WINDOW)
    key = f"open311:rate:{bucket}:{window}"
    if cache.add(key, 1, WINDOW + 5):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, WINDOW + 5)
            count = 1
    if count <= rate:
        return None
    return max(1, int((window + 1) * WINDOW - now + 0.999))
