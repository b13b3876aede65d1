"""Logging in: password, then the code for users with a second factor; unlocking with the code;
setting the second factor up. The admin's login page sends here too: one door, one throttle."""

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from wangge.accounts import actions as account_actions
from wangge.accounts import twofactor
from wangge.accounts.middleware import STATE_KEY
from wangge.accounts.models import User
from wangge.core.safeurl import safe_next

PENDING_KEY = "wangge_login_pending"  # the user whose password was right, waiting for the code


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form; the backend throttles, this shows when to try again."""

    locked = False

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username and password:
            try:
                self.user_cache = account_actions.authenticate_throttled(self.request, username, password)
            except account_actions.LoginThrottled as exc:
                self.locked = True
                raise ValidationError(str(exc), code="throttled") from exc
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Verification code"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class UnlockForm(CodeForm):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    field_order = ["username", "code"]


def _next(request) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"))


@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    form = ThrottledAuthenticationForm(request, data=request.POST or None)
    next_url = _next(request)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        if twofactor.device_for(user) is not None:
            request.session[PENDING_KEY] = {"user": user.pk, "backend": user.backend, "at": time.time()}
            return redirect(f"{reverse('login_code')}?{urlencode({'next': next_url})}")
        auth_login(request, user)
        return redirect(next_url)
    return render(request, "registration/login.html", {"form": form, "next": next_url})


def admin_login(request):
    """The admin's own login page would be a second door (unthrottled, no second factor): send it here."""
    next_url = safe_next(request, request.GET.get("next"), "admin:index")
    return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")


@never_cache
@require_http_methods(["GET", "POST"])
def login_code(request):
    pending = request.session.get(PENDING_KEY)
    user = None
    if pending and time.time() - pending["at"] < settings.LOGIN_CODE_STEP_SECONDS:
        user = User.objects.filter(pk=pending["user"], is_active=True).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        messages.error(request, _("Please log in again."))
        return redirect("login")
    form = CodeForm(request.POST or None)
    next_url = _next(request)
    if request.method == "POST" and form.is_valid():
        device = twofactor.verify(user, form.cleaned_data["code"])
        if device is not None:
            del request.session[PENDING_KEY]
            user.backend = pending["backend"]
            user.otp_device = device  # django_otp marks the session verified on login
            auth_login(request, user)
            return redirect(next_url)
        form.add_error("code", account_actions.wrong_code_message(twofactor.device_for(user)))
    return render(request, "registration/login_code.html", {"form": form, "next": next_url})


@never_cache
@require_http_methods(["GET", "POST"])
def login_unlock(request):
    """A locked-out user with a second factor lifts the lock with a code (then logs in as usual)."""
    form = UnlockForm(request.POST or None, initial={"username": request.GET.get("username", "")})
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        if account_actions.unlock_with_code(request, username, form.cleaned_data["code"]):
            messages.success(request, _("Unlocked. Log in with your password."))
            return redirect("login")
        form.add_error("code", _("Wrong code, or this account has no two-step verification."))
    return render(request, "registration/login_unlock.html", {"form": form})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Set up, or remove, the second factor (an authenticator app: a QR code, then one code)."""
    user = request.user
    device = twofactor.device_for(user)
    form = CodeForm(request.POST or None)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"), "profile")
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if device is None:
            confirmed = account_actions.confirm_2fa(user, code)
            if confirmed is not None:
                from django_otp import login as otp_login

                otp_login(request, confirmed)
                request.session.pop(STATE_KEY, None)
                messages.success(request, _("Two-step verification is on: log in with a code from now on."))
                return redirect(next_url)
            form.add_error("code", account_actions.wrong_code_message(twofactor.device_for(user, confirmed=False)))
        elif twofactor.verify(user, code) is None:
            form.add_error("code", account_actions.wrong_code_message(device))
        else:
            try:
                account_actions.remove_2fa(user, acting_user=user)
            except ValidationError as exc:
                form.add_error("code", exc.message_dict["code"])
            else:
                request.session.pop(STATE_KEY, None)
                messages.success(request, _("Two-step verification is off."))
                return redirect("profile")
    pending = None if device else account_actions.start_2fa_enrolment(user)
    return render(
        request,
        "registration/two_factor.html",
        {
            "form": form,
            "device": device,
            "secret": twofactor.secret_text(pending) if pending else "",
            "required": twofactor.requires_2fa(user),
            "next": next_url,
        },
    )


@login_required
@never_cache
def two_factor_qr(request):
    """The QR code of the key being set up (never of a confirmed one: it is shown only once)."""
    device = twofactor.device_for(request.user, confirmed=False)
    if device is None or twofactor.device_for(request.user) is not None:
        return HttpResponse(status=404)
    return HttpResponse(twofactor.qr_svg(device), content_type="image/svg+xml")
