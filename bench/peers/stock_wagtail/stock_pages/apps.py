from django.apps import AppConfig


class StockPagesConfig(AppConfig):
    name = "stock_pages"
    default_auto_field = "django.db.models.BigAutoField"
