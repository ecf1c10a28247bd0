"""Pages of the vetpms app: the home dashboard, staff and roles, API tokens, and the audit trail of one record.

Views are thin: check the permission, parse the form, call the service, render. Every view needs a login (the
LoginRequiredMiddleware) and checks its permission with ``permission_required`` (a friendly 403 otherwise).
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from vetpms import audit, services
from vetpms.errors import DomainError
from vetpms.forms import (
    ApiTokenForm,
    StaffCreateForm,
    StaffEditForm,
    StaffPasswordForm,
    StaffRoleForm,
    apply_service_error,
)
from vetpms.keyset import InvalidCursor, keyset_page
from vetpms.models import ApiToken, User
from vetpms.permissions import permission_required

# The records whose audit trail a manager can read, by the name used in the URL. Looked up through the app
# registry so this lowest app does not import the apps built on it (DESIGN.md section 1).
# Records whose audit trail a manager can read: kind -> (app label, model, detail URL name). Apps above this one
# add their own records in their AppConfig.ready (this lowest app imports none of them).
AUDITED_MODELS = {
    "user": ("vetpms", "User", "staff_edit"),
    "client": ("clients", "Client", "clients:detail"),
    "animal": ("animals", "Animal", "animals:detail"),
    "species": ("animals", "Species", None),
    "breed": ("animals", "Breed", None),
}


# Landing pages of the apps built on this one, tried in order: the first that returns a response is the home page
# (appointments registers a vet's own day list). A registry, so that this lowest app imports none of them.
HOME_PAGES: list[Callable[[HttpRequest], HttpResponse | None]] = []


def home(request):
    for page in HOME_PAGES:
        response = page(request)
        if response is not None:
            return response
    return render(request, "home.html", {"nav": "home"})


class LogoutView(auth_views.LogoutView):
    """Django's POST-only logout, plus a message on the sign-in page it leads to."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


# --- Staff ---------------------------------------------------------------------------------------------------


@permission_required("vetpms.manage_staff")
def staff_list(request):
    users = User.objects.prefetch_related("groups").order_by("-is_active", "last_name", "first_name", "username")
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    rows = [(u, StaffRoleForm(initial={"role": u.roles[0] if u.roles else ""}, prefix=f"u{u.pk}")) for u in page]
    return render(request, "staff/list.html", {"page_obj": page, "rows": rows, "nav": "staff"})


@permission_required("vetpms.manage_staff")
def staff_create(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.staff_create(
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                role=data["role"],
                password=data["password"] or None,
                vet_display_name=data["vet_display_name"],
                by=request.user,
            )
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{user} can now sign in as {user.username} ({data['role']}).")
            return redirect("staff_list")
    return render(request, "staff/form.html", {"form": form, "nav": "staff"})


@require_POST
@permission_required("vetpms.manage_staff")
def staff_role(request, pk: int):
    user = get_object_or_404(User, pk=pk)
    form = StaffRoleForm(request.POST, prefix=f"u{user.pk}")
    if not form.is_valid():
        form = StaffRoleForm(request.POST)  # also accept a plain "role" field (scripts, tests)
    if form.is_valid():
        try:
            services.staff_set_role(user=user, role=form.cleaned_data["role"], by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{user} is now {form.cleaned_data['role']}.")
    else:
        messages.error(request, "Choose one of the roles Receptionist, Vet or Manager.")
    return redirect("staff_list")


@permission_required("vetpms.manage_staff")
def staff_edit(request, pk: int):
    member = get_object_or_404(User, pk=pk)
    initial = {"first_name": member.first_name, "last_name": member.last_name, "email": member.email}
    form = StaffEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_update(user=member, by=request.user, data=form.cleaned_data)
        except (DomainError, ValidationError) as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{member.username}'s details are saved.")
            return redirect("staff_list")
    context = {"form": form, "member": member, "password_form": StaffPasswordForm(), "nav": "staff"}
    return render(request, "staff/edit.html", context)


@require_POST
@permission_required("vetpms.manage_staff")
def staff_active(request, pk: int):
    """Deactivate (a leaver) or reactivate a member of staff: ``active=0`` or ``active=1``."""
    member = get_object_or_404(User, pk=pk)
    activate = request.POST.get("active") == "1"
    try:
        if activate:
            services.staff_reactivate(user=member, by=request.user)
        else:
            services.staff_deactivate(user=member, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if activate:
            messages.success(request, f"{member} can sign in again.")
        else:
            messages.success(request, f"{member} is deactivated: signed out everywhere, API tokens revoked.")
    return redirect("staff_list")


@never_cache
@permission_required("vetpms.manage_staff")
def staff_password(request, pk: int):
    member = get_object_or_404(User, pk=pk)
    form = StaffPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.staff_set_password(user=member, password=form.cleaned_data["password"], by=request.user)
        except ValidationError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, f"{member}'s password is set; tell them in person, not by email.")
            return redirect("staff_list")
    return render(request, "staff/password.html", {"form": form, "member": member, "nav": "staff"})


class PasswordChangeView(auth_views.PasswordChangeView):
    """Every user changes their own password here; the change goes through the service (validated, audited)
    and keeps this session signed in while ending the user's other sessions."""

    def form_valid(self, form):
        services.staff_set_password(
            user=self.request.user, password=form.cleaned_data["new_password1"], by=self.request.user
        )
        self.request.user.refresh_from_db()
        update_session_auth_hash(self.request, self.request.user)
        messages.success(self.request, "Your password is changed.")
        return redirect("home")


# --- API tokens ----------------------------------------------------------------------------------------------


@permission_required("vetpms.manage_api_tokens")
def token_list(request):
    tokens = ApiToken.objects.select_related("user", "created_by").order_by("-created_at", "-id")
    page = Paginator(tokens, 50).get_page(request.GET.get("page"))
    return render(request, "staff/tokens.html", {"page_obj": page, "nav": "tokens"})


@never_cache
@permission_required("vetpms.manage_api_tokens")
def token_create(request):
    form = ApiTokenForm(request.POST or None, initial={"user": request.GET.get("user")})
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.api_token_create(
                user=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
                by=request.user,
                scopes=form.chosen_scopes(),
            )
        except DomainError as exc:
            apply_service_error(form, exc)
        else:
            # Rendered, not redirected: the secret exists only in this response and is never shown again.
            return render(request, "staff/token_created.html", {"token": token, "secret": secret, "nav": "tokens"})
    return render(request, "staff/token_form.html", {"form": form, "nav": "tokens"})


@require_POST
@permission_required("vetpms.manage_api_tokens")
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    try:
        services.api_token_revoke(token=token, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The token “{token.name}” of {token.user} is revoked; it no longer works.")
    return redirect("token_list")


# --- Audit trail ---------------------------------------------------------------------------------------------


@permission_required("vetpms.view_auditentry")
def audit_trail(request, model: str, pk: int):
    if model not in AUDITED_MODELS:
        raise Http404("No such kind of record.")
    app_label, model_name, detail_url = AUDITED_MODELS[model]
    model_class = apps.get_model(app_label, model_name)
    obj = get_object_or_404(model_class, pk=pk)
    entries = audit.entries_for(obj).order_by("-at", "-id")
    try:
        page = keyset_page(entries, cursor=request.GET.get("cursor") or None, per_page=25, count=False)
    except InvalidCursor:
        page = keyset_page(entries, cursor=None, per_page=25, count=False)
    back_url = reverse(detail_url, args=[obj.pk]) if detail_url else reverse("animals:species_list")
    return render(
        request,
        "audit/entries.html",
        {"object": obj, "kind": model_class._meta.verbose_name, "page": page, "back_url": back_url},
    )
