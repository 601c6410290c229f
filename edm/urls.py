from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from delivery.engagement import views as engagement
from delivery.views import settings as delivery_settings
from edm import api, token_views, views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("settings/", delivery_settings.settings_index, name="settings"),
    path("settings/api-tokens/", token_views.api_tokens, name="settings_api_tokens"),
    path(
        "settings/api-tokens/<int:pk>/revoke/",
        token_views.api_token_revoke,
        name="settings_api_token_revoke",
    ),
    path("api/", include((api.urls(), "ninja"), namespace="api")),
    path("healthz", views.healthz, name="healthz"),
    # Tracking endpoints at the paths of delivery/engagement/tokens.py.
    path("l/<str:token>", engagement.click, name="track_click"),
    path("o/<str:token>.gif", engagement.open_pixel, name="track_open"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("campaigns.urls")),
    path("", include("delivery.urls")),
]
