"""App config of the messaging app."""

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The limiter's model lives in its own package (messaging/limiter/models.py).
        from messaging.limiter import models  # noqa: F401
