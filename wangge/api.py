"""The JSON API (django-ninja): /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger
from ninja.security import HttpBearer, SessionAuth, django_auth

from wangge.accounts.actions import user_for_token
from wangge.core import faults
from wangge.core.apitypes import ERRORS
from wangge.core.ratelimit import RateLimited


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="wangge API",
    version="1",
    description="网格化社会治理平台 API. Authenticate with POST /api/v1/auth/token, then "
    "`Authorization: Bearer <token>`; browser sessions work too.",
    auth=[BearerToken(), django_auth],
    # Swagger UI's files come from ninja's static files ("ninja" in INSTALLED_APPS), so the docs work
    # offline; no validator badge (it would load an image from validator.swagger.io).
    docs=Swagger(settings={"validatorUrl": None}),
)
faults.install(api)  # every unhandled exception answers JSON (500; 503 + Retry-After for a busy database or store)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    """400 in the shape of apitypes.BadRequestOut: each field with its reasons."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    errors = {str(field): [str(m) for m in messages] for field, messages in errors.items()}
    return api.create_response(request, {"detail": "invalid input", "errors": errors}, status=400)


@api.exception_handler(MultiPartParserError)
def broken_upload(request, exc):
    """A multipart body that does not parse: 400 in JSON, not the site's HTML page."""
    return api.create_response(request, {"detail": f"cannot parse the upload: {exc}"}, status=400)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "not your role"}, status=403)


@api.exception_handler(RateLimited)
def rate_limited(request, exc: RateLimited):
    """429 with Retry-After: a client over a public entry's limit (core.ratelimit)."""
    response = api.create_response(request, {"detail": exc.message, "retry_after": exc.retry_after}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "not found"}, status=404)


from wangge.cases.actions import NotPermitted, StaleVersion, TransitionNotAllowed  # noqa: E402


@api.exception_handler(TransitionNotAllowed)
def transition_not_allowed(request, exc):
    return api.create_response(request, {"detail": str(exc) or "not allowed now"}, status=400)


@api.exception_handler(NotPermitted)
def not_permitted(request, exc):
    return api.create_response(request, {"detail": str(exc) or "not your role"}, status=403)


@api.exception_handler(StaleVersion)
def stale_version(request, exc):
    return api.create_response(request, {"detail": str(exc), "version": exc.current_version}, status=409)


from wangge.cases.actions import IdempotencyConflict  # noqa: E402


@api.exception_handler(IdempotencyConflict)
def idempotency_conflict(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=409)


from wangge.privacy.search import BudgetExhausted  # noqa: E402
from wangge.registry.actions import DuplicatePerson  # noqa: E402
from wangge.registry.actions import StaleVersion as RegisterStaleVersion  # noqa: E402


@api.exception_handler(RegisterStaleVersion)
def register_stale_version(request, exc):
    return api.create_response(request, {"detail": str(exc), "version": exc.current_version}, status=409)


@api.exception_handler(BudgetExhausted)
def exact_budget_exhausted(request, exc):
    """Too many "is this number registered" answers (searches or duplicates found by writes)."""
    response = api.create_response(request, {"detail": str(exc), "retry_after": exc.retry_after}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(DuplicatePerson)
def duplicate_person(request, exc):
    body = {"detail": "already registered", "errors": exc.message_dict}
    if exc.existing is not None:
        body["existing"] = exc.existing.pk
    return api.create_response(request, body, status=400)


from wangge.accounts.api import router as accounts_router  # noqa: E402
from wangge.areas.api import router as areas_router  # noqa: E402
from wangge.callbacks.api import router as callbacks_router  # noqa: E402
from wangge.cases.api import public_router as public_cases_router  # noqa: E402
from wangge.cases.api import router as cases_router  # noqa: E402
from wangge.evaluation.api import router as evaluation_router  # noqa: E402
from wangge.hotline.api import router as hotline_router  # noqa: E402
from wangge.insight.api import router as insight_router  # noqa: E402
from wangge.notify.api import router as notify_router  # noqa: E402
from wangge.patrol.api import router as patrol_router  # noqa: E402
from wangge.privacy.api import router as privacy_router  # noqa: E402
from wangge.proactive.api import router as proactive_router  # noqa: E402
from wangge.registry.api import router as registry_router  # noqa: E402
from wangge.routing.api import router as routing_router  # noqa: E402
from wangge.routing.api import suggest_router  # noqa: E402
from wangge.sensors.api import router as sensors_router  # noqa: E402
from wangge.summons.api import router as summons_router  # noqa: E402
from wangge.workorders.api import router as workorders_router  # noqa: E402

api.add_router("/", accounts_router)
api.add_router("/areas", areas_router)
api.add_router("/cases", suggest_router)  # POST /cases/suggest, before /cases/{id}
api.add_router("/cases", cases_router)
api.add_router("/routing", routing_router)
api.add_router("/public", public_cases_router)
api.add_router("/notifications", notify_router)
api.add_router("/patrol", patrol_router)
api.add_router("/privacy", privacy_router)
api.add_router("/registry", registry_router)
api.add_router("/insight", insight_router)
api.add_router("/sensors", sensors_router)
api.add_router("/workorders", workorders_router)
api.add_router("/evaluation", evaluation_router)
api.add_router("/callbacks", callbacks_router)
api.add_router("/hotline", hotline_router)
api.add_router("/summons", summons_router)
api.add_router("/proactive", proactive_router)


def declare_framework_errors(api: NinjaAPI) -> None:
    """Declare in the OpenAPI the statuses ninja itself answers, on each operation they can come
    from (the statuses of the views and actions are declared by each operation): 401 where a token
    or session is required, 403 where a session's write fails Django's CSRF check, 422 where a
    parameter or field can fail its type or bounds (ninja's validation body), 400 where a JSON body
    can fail to parse, and 503 everywhere (core.faults: the database busy past the writer timeout, or
    the file store full or read-only; Retry-After says when to try again)."""
    for mounted in api._get_bound_routers():  # the operations as served, auth inherited
        for view in mounted.path_operations.values():
            for operation in view.operations:
                declared = operation.response_models
                sources = {model.__ninja_param_source__ for model in operation.models}
                session = any(isinstance(auth, SessionAuth) for auth in operation.auth_callbacks)
                writes = set(operation.methods) - {"GET", "HEAD", "OPTIONS"}
                wanted = [401] if operation.auth_callbacks else []
                wanted += [403] if session and writes else []
                wanted += [422] if sources else []
                wanted += [400] if "body" in sources else []
                wanted += [503]
                for status in wanted:
                    if status not in declared:
                        declared[status] = operation._create_response_model(ERRORS[status])


declare_framework_errors(api)


@csrf_exempt
def unknown_path(request):
    """Any other URL under /api/v1/ (say /cases/abc, where an id belongs) answers 404 as the API
    does, in JSON, not with the site's HTML page."""
    return JsonResponse({"detail": "not found"}, status=404)
