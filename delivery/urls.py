from django.urls import path

from delivery.views import bounces, outbox, sites, webhooks

app_name = "delivery"

urlpatterns = [
    path("delivery/", sites.delivery_index, name="delivery_index"),
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
]
