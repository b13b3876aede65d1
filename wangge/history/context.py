"""Who is acting and in which request: set by the middleware, commands and tasks."""

import contextvars
import uuid
from contextlib import contextmanager

_source = contextvars.ContextVar("change_source", default="system")
_request_id = contextvars.ContextVar("change_request_id", default=None)


def current_source() -> str:
    return _source.get()


def current_request_id():
    return _request_id.get()


@contextmanager
def change_context(source: str, request_id: uuid.UUID | None = None):
    source_token = _source.set(source)
    request_token = _request_id.set(request_id or uuid.uuid4())
    try:
        yield
    finally:
        _source.reset(source_token)
        _request_id.reset(request_token)
