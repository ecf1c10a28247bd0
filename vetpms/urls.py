from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from vetpms import views as web_views
from vetpms.api import api

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", web_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", web_views.PasswordChangeView.as_view(), name="password_change"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("fhir/R4/", include("exchange.fhir.urls")),
    path("", include("vetpms.web_urls")),
]
