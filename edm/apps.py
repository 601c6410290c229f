from django.apps import AppConfig


class EdmConfig(AppConfig):
    name = "edm"
    verbose_name = "EDM platform"
