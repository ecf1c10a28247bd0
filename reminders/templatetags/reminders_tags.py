"""What other apps' pages show of reminders without importing this app: an animal's reminders (pending and
history, add, complete, cancel) and, on a client's page, a link to their reminders and the emails and calls."""

from __future__ import annotations

from django import template
from django.utils import timezone

from reminders import selectors
from reminders.forms import ReminderAddForm

register = template.Library()


@register.inclusion_tag("reminders/_animal_reminders.html", takes_context=True)
def animal_reminders(context, animal, history: int = 10):
    """The animal's pending reminders and its latest closed ones: two queries, for those who may see them."""
    request = context["request"]
    user = request.user
    if not user.has_perm("reminders.view_reminder"):
        return {"allowed": False}
    pending, closed = selectors.animal_reminders(animal_id=animal.pk, history=history)
    can_add = (
        user.has_perm("reminders.add_reminder")
        and animal.is_active
        and not animal.is_deceased
        and animal.owner.is_active
    )
    types = selectors.addable_types(animal=animal, pending=pending) if can_add else []
    return {
        "allowed": True,
        "animal": animal,
        "pending": pending,
        "closed": closed,
        "history": history,
        "today": timezone.localdate(),
        "can_change": user.has_perm("reminders.change_reminder"),
        "add_form": ReminderAddForm(types=types, auto_id="rem_%s") if types else None,
        "here": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("reminders/_client_reminders.html", takes_context=True)
def client_reminders(context, client):
    """A client page's link to their reminders and the emails and calls about them. No query: the client page
    keeps its fixed query budget, and the linked page shows the detail."""
    user = context["request"].user
    return {"allowed": user.has_perm("reminders.view_reminderdelivery"), "client": client}
