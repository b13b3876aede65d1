import uuid

from .context import change_context


class ChangeContextMiddleware:
    """Groups the change records of one request under one request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        source = "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "web"
        request.id = uuid.uuid4()
        with change_context(source, request.id):
            return self.get_response(request)
