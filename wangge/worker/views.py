"""/readyz: ready when the database answers and every periodic task of the worker ran within its
allowed interval (its period + WORKER_LATE_MINUTES); else 503 naming the late tasks (and the
administrators are told, once per stall). /healthz (web) stays the liveness check without the database."""

from django.db import connection
from django.http import JsonResponse

from . import health


def readyz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        late = health.check_late()
    except Exception as exc:  # the database is down: not ready, and say so without a 500 page
        return JsonResponse({"status": "unavailable", "database": "error", "error": type(exc).__name__}, status=503)
    body = {
        "status": "late" if late else "ok",
        "database": "ok",
        "late": [
            {"task": s.name, "since": s.since.isoformat() if s.since else None, "every_seconds": s.every_seconds}
            for s in late
        ],
    }
    return JsonResponse(body, status=503 if late else 200)
