from django.urls import path

from delivery.views import bounces, outbox, sites

app_name = "delivery"

urlpatterns = [
    path("delivery/", sites.delivery_index, name="delivery_index"),
    path("delivery/outbox/", outbox.outbox, name="outbox"),
    path("delivery/outbox/<int:pk>/", outbox.outbox_message, name="outbox_message"),
    path("delivery/outbox/<int:pk>/html", outbox.outbox_message_html, name="outbox_message_html"),
    path("bounces/", bounces.bounce_index, name="bounce_index"),
]
