"""Products in the admin's Personalization menu: a searchable list editors browse (the shop's
feed keeps it up to date)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn
from wagtail.snippets.views.snippets import SnippetViewSet

from personalization.commerce import import_admin
from personalization.commerce.history import HistoryColumn, recent_changes
from personalization.commerce.models import Product


class PriceColumn(Column):
    """A price in yen, as shoppers see it: ¥1,280."""

    def get_value(self, instance):
        return f"¥{instance.price:,}"


class ProductViewSet(SnippetViewSet):
    model = Product
    icon = "tag"
    menu_label = gettext_lazy("Products")
    url_prefix = "personalization/products"
    index_view_class = import_admin.ProductIndexView  # with "Import CSV"
    search_fields = ["sku", "name"]
    list_filter = ["category", "active"]
    list_display = [
        Column("sku", label=gettext_lazy("SKU"), sort_key="sku"),
        Column("name", label=gettext_lazy("Name"), sort_key="name"),
        Column("category", label=gettext_lazy("Category"), sort_key="category"),
        PriceColumn("price", label=gettext_lazy("Price"), sort_key="price"),
        Column("stock", label=gettext_lazy("Stock"), sort_key="stock"),
        BooleanColumn("active", label=gettext_lazy("Active"), sort_key="active"),
        HistoryColumn("history", label=gettext_lazy("Last 30 days")),
        DateColumn("updated_at", label=gettext_lazy("Updated"), sort_key="updated_at"),
    ]

    def get_queryset(self, request):
        return Product.objects.prefetch_related(recent_changes())

    panels = [
        FieldRowPanel([FieldPanel("sku"), FieldPanel("name")]),
        FieldRowPanel([FieldPanel("category"), FieldPanel("pet_type")]),
        FieldRowPanel([FieldPanel("price"), FieldPanel("stock")]),
        MultiFieldPanel(
            [FieldPanel("image"), FieldPanel("url"), FieldPanel("active")],
            heading=gettext_lazy("On the shop"),
        ),
    ]

    def get_urlpatterns(self):
        return [*super().get_urlpatterns(), *import_admin.urlpatterns()]


@hooks.register("register_personalization_viewsets")
def products_in_the_personalization_menu():
    return [ProductViewSet]
