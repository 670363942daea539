from django.apps import AppConfig


class SmsAdminConfig(AppConfig):
    name = "sms_admin"
    verbose_name = "SMS configuration"
