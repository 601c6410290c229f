from django.urls import path

from delivery import views

app_name = "delivery"

urlpatterns = [
    path("delivery/", views.delivery_index, name="delivery_index"),
    path("delivery/outbox/", views.outbox, name="outbox"),
    path("delivery/outbox/<int:pk>/", views.outbox_message, name="outbox_message"),
    path("delivery/outbox/<int:pk>/html", views.outbox_message_html, name="outbox_message_html"),
    path("bounces/", views.bounce_index, name="bounce_index"),
]
