from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messages"

    def ready(self) -> None:
        # Register the tasks messaging.enqueue publishes by name.
        from messaging import tasks  # noqa: F401
