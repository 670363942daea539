from django.apps import AppConfig


class TwilioBridgeConfig(AppConfig):
    name = "twilio_bridge"
    verbose_name = "Twilio bridge"
