from django.urls import path

from delivery.views import bounces, outbox, settings, sites, webhooks

app_name = "delivery"

urlpatterns = [
    path("delivery/", sites.delivery_index, name="delivery_index"),
    path("delivery/presets/", sites.site_presets, name="site_presets"),
    path("delivery/sites/<str:site>/", sites.site_detail, name="site_detail"),
    path("delivery/sites/<str:site>/resume/", sites.site_resume, name="site_resume"),
    path("delivery/outbox/", outbox.outbox, name="outbox"),
    path("delivery/outbox/<int:pk>/", outbox.outbox_message, name="outbox_message"),
    path("delivery/outbox/<int:pk>/html", outbox.outbox_message_html, name="outbox_message_html"),
    path("bounces/", bounces.bounce_index, name="bounce_index"),
    path("bounces/<int:pk>/", bounces.bounce_detail, name="bounce_detail"),
    path("bounces/received/", bounces.bounce_received, name="bounce_received"),
    path(
        "bounces/received/<int:pk>/",
        bounces.bounce_received_message,
        name="bounce_received_message",
    ),
    path("webhooks/ses", webhooks.ses_webhook, name="webhook_ses"),
    path("webhooks/sendgrid", webhooks.sendgrid_webhook, name="webhook_sendgrid"),
    # The Settings page itself is edm.urls' "settings".
    path("settings/domains/add/", settings.settings_domain_add, name="settings_domain_add"),
    path("settings/domains/<int:pk>/", settings.settings_domain, name="settings_domain"),
    path(
        "settings/domains/<int:pk>/check/",
        settings.settings_domain_check,
        name="settings_domain_check",
    ),
    path(
        "settings/domains/<int:pk>/rotate/",
        settings.settings_domain_rotate,
        name="settings_domain_rotate",
    ),
    path(
        "settings/domains/<int:pk>/delete/",
        settings.settings_domain_delete,
        name="settings_domain_delete",
    ),
]
