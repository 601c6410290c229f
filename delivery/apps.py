from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "delivery"

    def ready(self):
        # Engagement conditions of segments read deliveries: registered from this side.
        from delivery import segment_conditions  # noqa: F401
