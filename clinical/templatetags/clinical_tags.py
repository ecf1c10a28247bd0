"""Cards the clinical record adds to other apps' pages without them importing it: the problem list and alerts
of the animal page, the animal's history, and the vet's reminder of consultations left unsigned (day list)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from clinical import selectors
from clinical.models import Consultation
from vetpms.models import Vet

register = template.Library()


@register.inclusion_tag("clinical/_animal_problems.html", takes_context=True)
def animal_problems(context, animal):
    """Alerts and active problems at the top of the animal page, the problem list, and the clinical actions."""
    user = context["request"].user
    if not user.has_perm("clinical.view_problem"):
        return {"show": False}
    problems = list(selectors.problems(animal=animal, linked="count"))
    current = [p for p in problems if p.is_current]
    own_vet, vets = None, []
    if user.has_perm("clinical.add_consultation"):
        # One query for both: the signed-in vet's own book, else the bookable vets to choose from.
        active = list(Vet.objects.filter(is_active=True).select_related("user").order_by("display_name", "id"))
        own_vet = next((v for v in active if v.user_id == user.pk), None)
        if own_vet is None:
            vets = [v for v in active if v.bookable]
    return {
        "show": True,
        "animal": animal,
        "alerts": [p for p in current if p.is_alert],
        "current": current,
        "resolved": [p for p in problems if not p.is_current],
        "perms": context.get("perms"),
        "csrf_token": context.get("csrf_token"),
        "own_vet": own_vet,
        "vets": vets,
        "can_start": user.has_perm("clinical.add_consultation") and animal.is_active and not animal.is_deceased,
    }


@register.inclusion_tag("clinical/_history_card.html", takes_context=True)
def animal_history(context, animal):
    """The patient history card with its filters; its first page loads right after the page (htmx, from the
    history view, as its filters and "Older entries" do), so the animal page costs the same whatever the size of
    the record."""
    from clinical.forms import AttachmentForm
    from clinical.views import history_filters_context

    request = context["request"]
    extra = {"perms": context.get("perms"), "request": request, "csrf_token": context.get("csrf_token")}
    if request.user.has_perm("clinical.add_attachment"):
        extra["attachment_form"] = AttachmentForm(auto_id="animal_file_%s")
    return history_filters_context(request, animal) | extra


@register.simple_tag(takes_context=True)
def unsigned_count(context, vets=None) -> int:
    """How many of the signed-in vet's consultations are still unsigned a day after they were opened. ``vets``,
    the active vets when the page has them (the day list), finds the signed-in vet without a query."""
    user = context["request"].user
    if not user.has_perm("clinical.sign_consultation"):
        return 0
    if vets is not None:
        vet = next((v for v in vets if v.user_id == user.pk), None)
    else:
        vet = Vet.objects.filter(user=user, is_active=True).first()
    if vet is None:
        return 0
    return Consultation.objects.filter(
        vet=vet, status=Consultation.Status.DRAFT, opened_at__lt=timezone.now() - dt.timedelta(days=1)
    ).count()
