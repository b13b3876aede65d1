"""The "show in full" control: POST the reason, get the clear value back (htmx swaps it in)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_POST

from wangge.core.clientip import client_ip

from . import actions
from .revealable import masked_value, model_for, spec_for


def find_object(user, type_label: str, object_id: str, field: str):
    """The object, if its kind is revealable, the user may see it, and the field exists; else 404."""
    model = model_for(type_label)
    if model is None or not str(object_id).isdigit():
        raise Http404
    spec = spec_for(model)
    if field not in spec.fields:
        raise Http404
    obj = spec.visible(user).filter(pk=int(object_id)).first()
    if obj is None:
        raise Http404
    return obj


@login_required
@require_POST
def reveal(request):
    type_label, field = request.POST.get("type", ""), request.POST.get("field", "")
    object_id = request.POST.get("id", "")
    obj = find_object(request.user, type_label, object_id, field)
    context = {"obj": obj, "type": type_label, "field": field, "may_reveal": True, "open": True}
    try:
        context["value"] = actions.reveal(
            request.user, obj, field, request.POST.get("reason", ""), ip=client_ip(request)
        )
        return render(request, "privacy/_pii.html", context)
    except PermissionDenied as exc:
        context.update(masked=masked_value(obj, field), error=str(exc), may_reveal=False)
        return render(request, "privacy/_pii.html", context, status=403)
    except ValidationError as exc:
        context.update(masked=masked_value(obj, field), error=" ".join(exc.messages))
        return render(request, "privacy/_pii.html", context, status=400)
