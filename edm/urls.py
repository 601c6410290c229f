from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from delivery.views import settings as delivery_settings
from edm import views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("settings/", delivery_settings.settings_index, name="settings"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("campaigns.urls")),
    path("", include("delivery.urls")),
]
