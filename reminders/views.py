"""The reminder pages (filled in by the reminders UI work)."""

from django.contrib.auth.decorators import permission_required
from django.shortcuts import render


@permission_required("reminders.view_reminder", raise_exception=True)
def reminder_list(request):
    return render(request, "reminders/list.html", {"nav": "reminders"})


@permission_required("reminders.view_remindertype", raise_exception=True)
def type_list(request):
    return render(request, "reminders/type_list.html", {"nav": "reminder-types"})
