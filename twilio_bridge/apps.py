from django.apps import AppConfig


class TwilioBridgeConfig(AppConfig):
    name = "twilio_bridge"
    verbose_name = "Twilio bridge"

    def ready(self) -> None:
        # Register the send tasks messaging.enqueue publishes by name.
        from twilio_bridge import tasks  # noqa: F401
