from django.urls import path

from delivery import views

app_name = "delivery"

urlpatterns = [
    path("delivery/", views.delivery_index, name="delivery_index"),
    path("bounces/", views.bounce_index, name="bounce_index"),
]
