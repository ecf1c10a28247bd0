"""Pages for owners, who do not log in: what they reach from the links in reminder emails."""

from django.urls import path

from reminders import unsubscribe

app_name = "reminders_public"

urlpatterns = [
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
]
