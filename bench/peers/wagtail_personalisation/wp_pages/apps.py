from django.apps import AppConfig


class WpPagesConfig(AppConfig):
    name = "wp_pages"
    default_auto_field = "django.db.models.BigAutoField"
