from django.urls import path

from reminders import views

app_name = "reminders"

urlpatterns = [
    path("", views.reminder_list, name="list"),
    path("new/", views.reminder_new, name="new"),
    path("<int:pk>/", views.reminder_detail, name="detail"),
    path("<int:pk>/complete/", views.reminder_complete, name="complete"),
    path("<int:pk>/cancel/", views.reminder_cancel, name="cancel"),
    path("<int:pk>/move/", views.reminder_move, name="move"),
    path("types/", views.type_list, name="type_list"),
    path("types/new/", views.type_edit, name="type_create"),
    path("types/<int:pk>/", views.type_edit, name="type_update"),
    path("types/preview/", views.type_preview, name="type_preview"),
    path("log/", views.delivery_list, name="delivery_list"),
    path("log/client/<int:client_pk>/", views.client_deliveries, name="client_deliveries"),
    path("follow-up/", views.follow_up_list, name="follow_up"),
    path("follow-up/<int:pk>/phoned/", views.follow_up_mark, name="follow_up_mark"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
]
