"""Pages. Thin: find what the user may see (through the jurisdiction scope), render it."""

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from wangge.accounts import actions as account_actions
from wangge.accounts.scope import restrict, scope_for
from wangge.areas.models import Area
from wangge.history.actions import history_for

from . import portal, workbench


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The old password is checked through the login throttle (a stolen session cannot guess it)."""

    def __init__(self, request, *args, **kwargs):
        self.request = request
        super().__init__(request.user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data.get("old_password")
        try:
            account_actions.check_current_password(self.request, self.user, old_password)
        except account_actions.LoginThrottled as exc:
            raise ValidationError(str(exc), code="throttled") from exc
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["old_password"], code="password_incorrect") from exc
        return old_password


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = ThrottledPasswordChangeForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        account_actions.change_password(request.user, form.cleaned_data["new_password1"], acting_user=request.user)
        update_session_auth_hash(request, request.user)
        messages.success(request, _("Your password was changed."))
        return redirect("home")
    return render(request, "registration/password_change.html", {"form": form})


class ProfileForm(forms.Form):
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=100, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail"), required=False)
    phone = forms.CharField(
        label=gettext_lazy("Mobile phone"),
        max_length=20,
        required=False,
        help_text=gettext_lazy("Deadline reminders and urgent cases are sent here by SMS."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    initial = {"full_name": user.full_name, "email": user.email, "phone": user.phone}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            account_actions.update_profile(user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Your profile was saved."))
            return redirect("profile")
    return render(request, "registration/profile.html", {"form": form})


def visible_roots(user):
    """The top areas of the user's jurisdiction (the city for those who see everything)."""
    scope = scope_for(user)
    if scope.everything:
        return Area.objects.filter(parent=None)
    codes = [p.rstrip("/").rsplit("/", 1)[-1] for p in scope.visible_area_paths]
    return Area.objects.filter(code__in=codes)


@login_required
def home(request):
    """The workbench (工作台): what waits for this user now, panel by panel (web/workbench.py)."""
    if request.user.is_personal:  # citizens and landlords: the portal's home (web/portal.py)
        return portal.home(request)
    context = {"memberships": request.user.membership_list, "roots": visible_roots(request.user)}
    return render(
        request, "web/home.html", {**context, "panels": workbench.panels_for(request.user), "workbench": True}
    )


@login_required
def workbench_panels(request):
    """htmx partial: the panels again, when a live event or the clock says they may have moved."""
    panels = [] if workbench.is_personal_only(request.user) else workbench.panels_for(request.user)
    return render(request, "web/_workbench.html", {"panels": panels})


@login_required
def area_tree(request):
    return render(request, "web/area_tree.html", {"roots": with_child_counts(visible_roots(request.user))})


def with_child_counts(queryset):
    return queryset.annotate(child_count=Count("children")).order_by("code")


@login_required
def area_children(request, code):
    """htmx partial: the children of an area, for expanding the tree."""
    area = get_object_or_404(restrict(Area.objects.all(), request.user), code=code)
    return render(request, "web/_area_children.html", {"children": with_child_counts(area.children.all())})


@login_required
def area_detail(request, code):
    area = get_object_or_404(restrict(Area.objects.select_related("parent"), request.user), code=code)
    scope = scope_for(request.user)
    # Breadcrumb: only the ancestors the user may see, so no link leads to a 404.
    ancestors = [a for a in area.ancestors() if scope.covers_path(a.path)]
    return render(
        request,
        "web/area_detail.html",
        {
            "area": area,
            "ancestors": ancestors,
            "children": with_child_counts(area.children.all()),
            "history": history_for(area)[:50],
        },
    )


@login_required
def area_geojson(request, code):
    """The area's boundary and its children's, as a FeatureCollection for the map."""
    area = get_object_or_404(restrict(Area.objects.all(), request.user), code=code)
    features = []
    for a in [area, *area.children.filter(boundary__isnull=False).order_by("code")]:
        if a.boundary:
            features.append(
                {
                    "type": "Feature",
                    "geometry": a.boundary,
                    "properties": {
                        "code": a.code,
                        "name": a.name,
                        "level": a.level,
                        "self": a.pk == area.pk,
                        "generated": a.boundary_generated,
                    },
                }
            )
    return JsonResponse({"type": "FeatureCollection", "features": features})


def healthz(request):
    """Liveness for load balancers and monitoring: answers without touching the database."""
    return JsonResponse({"status": "ok"})
