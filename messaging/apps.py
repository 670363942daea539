from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messages"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        # Register the tasks messaging.enqueue publishes by name.
        from messaging import compiled, tasks  # noqa: F401

        connection_created.connect(compiled.generic_plans, dispatch_uid="messaging.generic_plans")
