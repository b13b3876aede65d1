"""What every part of the JSON API shares: bounded number types, the paginator, and the error bodies.

A number that arrives in a request is bounded where it is declared, so that pydantic answers 422
(naming the field) before the number reaches the database: SQLite and PostgreSQL store at most a
signed 64-bit integer, and Python's dates end in year 9999. The bounds show in the OpenAPI too.
"""

from typing import Annotated, Any

from ninja import Field, Schema
from ninja.conf import settings as ninja_settings
from ninja.pagination import LimitOffsetPagination

from wangge.accounts.resolve import MAX_ID

# A row id, as a path parameter, in a body or inside a list of ids (photo_ids, rooms, ...).
Id = Annotated[int, Field(gt=0, le=MAX_ID, description="a row id")]
# A row's version (optimistic locking: 409 when it moved).
Version = Annotated[int, Field(ge=0, le=MAX_ID)]
# A number of days asked for (a window ahead or back): ten years at most.
MAX_DAYS = 3660
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]
# How many rows one page may ask for, and how far into a list a page may start.
MAX_PAGE = 1000
MAX_OFFSET = MAX_ID - MAX_PAGE


class Paginator(LimitOffsetPagination):
    """ninja's limit/offset paging with both numbers bounded (NINJA_PAGINATION_CLASS): every
    @paginate list answers 422 for a page beyond what a database can count, never a 500."""

    class Input(Schema):
        limit: int = Field(
            ninja_settings.PAGINATION_PER_PAGE, ge=1, le=MAX_PAGE, description=f"rows per page (at most {MAX_PAGE})"
        )
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="rows to skip")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_limit=MAX_PAGE, **kwargs)


# --- error bodies ----------------------------------------------------------------------------


class ErrorOut(Schema):
    """401, 403, 404, 429, 503: what went wrong."""

    detail: str


class BadRequestOut(Schema):
    """400: the input was refused. `errors` names each field with its reasons (`__all__`: the
    input as a whole); a body that is not JSON has the detail only."""

    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict)
    existing: int | None = Field(None, description="a duplicate registration: the person already registered")


class ConflictOut(Schema):
    """409: the row changed since you read it; read it again (its version is given) and retry."""

    detail: str
    version: int


class ValidationIssue(Schema):
    type: str
    loc: list[str | int] = Field(description="where: body, query, path or file, then the field")
    msg: str
    ctx: dict[str, Any] | None = None


class ValidationErrorOut(Schema):
    """422: a parameter or body field does not fit its declared type or bounds."""

    detail: list[ValidationIssue]


ERRORS = {
    400: BadRequestOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ConflictOut,
    422: ValidationErrorOut,
    429: ErrorOut,
    503: ErrorOut,
}


def errors(*codes: int) -> dict[int, type[Schema]]:
    """The shared error bodies of these statuses, for an operation's response={...}:
    `response={200: CaseOut, **errors(400, 403, 404, 409)}`."""
    return {code: ERRORS[code] for code in codes}
