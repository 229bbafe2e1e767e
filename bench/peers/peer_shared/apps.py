from django.apps import AppConfig


class PeerSharedConfig(AppConfig):
    name = "peer_shared"
    default_auto_field = "django.db.models.BigAutoField"
