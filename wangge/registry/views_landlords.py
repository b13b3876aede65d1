"""Landlords' pages (their own rental houses, the tenants they declare) and the grid staff's answer
to a declaration of someone registered elsewhere (on the rental house's page)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import actions, compliance, queries
from .forms import TenantForm
from .models import DeclarationStatus, Tenancy, TenantDeclaration
from .views import _editor, _errors_to_form

# --- landlords: their own rental houses -----------------------------------------------------


@login_required
def my_rentals(request):
    """A landlord's own rental houses, each with its compliance score and what is missing."""
    rentals = list(queries.landlord_rentals(request.user))
    rentals = list(zip(rentals, compliance.compliance_many(rentals), strict=True))
    return render(request, "registry/my_rentals.html", {"rentals": rentals})


def _my_rental_context(request, rental, form=None):
    rooms = actions.landlord_rooms(rental)
    tenants = {}
    for t in Tenancy.objects.filter(room__in=rooms, moved_out__isnull=True).select_related("person"):
        tenants.setdefault(t.room_id, []).append(t)
    return {
        "rental": rental,
        "compliance": compliance.compliance(rental),
        "rooms": [(r, tenants.get(r.pk, [])) for r in rooms],
        "declarations": rental.declarations.filter(status=DeclarationStatus.PENDING).select_related("room"),
        "form": form or TenantForm(rooms=rooms),
        "today": timezone.localdate(),
    }


@login_required
def my_rental(request, pk):
    rental = queries.one(queries.landlord_rentals(request.user), pk)
    return render(request, "registry/my_rental.html", _my_rental_context(request, rental))


@login_required
@require_POST
def my_rental_tenant(request, pk):
    """Declare a tenant of one of the rental's rooms (tenancy source: landlord)."""
    rental = queries.one(queries.landlord_rentals(request.user), pk)
    form = TenantForm(request.POST, rooms=actions.landlord_rooms(rental))
    if form.is_valid():
        try:
            result = actions.declare_tenant(request.user, rental, form.cleaned_data)
            if isinstance(result, TenantDeclaration):  # registered elsewhere: the grid staff verify it
                messages.info(
                    request, _("Declaration received: the grid staff will verify it before the tenant is registered.")
                )
            else:
                messages.success(request, _("%(p)s declared in room %(r)s.") % {"p": result.person.name,
                                                                                 "r": result.room.number})  # fmt: skip
            return redirect("registry:my_rental", pk=rental.pk)
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as exc:
            _errors_to_form(form, exc)
    return render(request, "registry/my_rental.html", _my_rental_context(request, rental, form), status=400)


@login_required
@require_POST
def my_rental_move_out(request, pk):
    """Record that a tenant of the rental moved out (direct, recorded, the grid staff told)."""
    rental = queries.one(queries.landlord_rentals(request.user), pk)
    data = {"tenancy": request.POST.get("tenancy", ""), "moved_out": request.POST.get("moved_out", "")}
    try:
        tenancy = actions.record_move_out(request.user, rental, data)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        context = _my_rental_context(request, rental)
        context["move_out_errors"] = [m for messages_ in exc.message_dict.values() for m in messages_]
        return render(request, "registry/my_rental.html", context, status=400)
    messages.success(request, _("%(p)s moved out of room %(r)s on %(d)s.") % {
        "p": tenancy.person.name, "r": tenancy.room.number, "d": tenancy.moved_out.isoformat()})  # fmt: skip
    return redirect("registry:my_rental", pk=rental.pk)


@login_required
@require_POST
def declaration_review(request, pk, decl_pk):
    """The grid staff confirm (the person moves in) or reject a landlord's declaration."""
    _editor(request)
    rental = queries.one(queries.rentals(request.user), pk)
    declaration = queries.one(queries.declarations(request.user).filter(rental=rental), decl_pk)
    decision = request.POST.get("decision", "")
    try:
        actions.review_declaration(request.user, declaration, decision, request.POST.get("note", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Confirmed: the tenant is registered.") if decision == "confirm"
                         else _("Declaration rejected."))  # fmt: skip
    return redirect("registry:rental_detail", pk=rental.pk)
