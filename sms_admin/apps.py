from django.apps import AppConfig


class SmsAdminConfig(AppConfig):
    name = "sms_admin"
    verbose_name = "SMS configuration"

    def ready(self) -> None:
        # Register the alert task sms_admin.alerts publishes by name.
        from sms_admin import tasks  # noqa: F401
