from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self):
        # Registers the compilers of conditions on contacts' own fields.
        from campaigns.segments import contact_conditions  # noqa: F401
