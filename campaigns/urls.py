from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("lists/", views.list_index, name="list_index"),
    path("templates/", views.template_index, name="template_index"),
    path("campaigns/", views.campaign_index, name="campaign_index"),
]
