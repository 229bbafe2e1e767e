"""Products as the shop describes them, and the history of their price and stock (triggers and
charts read it). Prices are whole yen."""

from __future__ import annotations

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

TRACKED = ("price", "stock")


class ProductPet(models.TextChoices):
    """Which pet a product is for: the member's pet values, or every pet."""

    DOG = "dog", _("Dog")
    CAT = "cat", _("Cat")
    OTHER = "other", _("Other")
    ANY = "any", _("Any pet")


class Product(models.Model):
    """One product of the shop, keyed by its SKU. Saving it with a new price or stock (or
    creating it) writes a ProductChange; saving it unchanged writes none."""

    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    category = models.SlugField(_("category"), max_length=64, blank=True, allow_unicode=False)
    pet_type = models.CharField(
        _("pet type"), max_length=16, choices=ProductPet.choices, default=ProductPet.ANY
    )
    price = models.PositiveIntegerField(_("price (yen)"))
    stock = models.PositiveIntegerField(_("stock"), default=0)
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    url = models.URLField(_("product URL on the shop"), max_length=500, blank=True)
    active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]
        indexes = [models.Index(fields=["category", "active"], name="commerce_product_cat_active")]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"

    def save(self, *args, **kwargs):
        changed = getattr(self, "_tracked", None) != self.tracked_values()
        with transaction.atomic():
            super().save(*args, **kwargs)
            if changed:
                ProductChange.objects.create(product=self, price=self.price, stock=self.stock)
        self._tracked = self.tracked_values()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._tracked = instance.tracked_values()
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._tracked = self.tracked_values()

    def tracked_values(self) -> tuple:
        """Price and stock as last saved or loaded: a save that changes them writes history."""
        return tuple(self.__dict__.get(name) for name in TRACKED)


class ProductChange(models.Model):
    """A product's price and stock from `changed_at` on (the first row is its creation)."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="changes"
    )
    price = models.PositiveIntegerField(_("price (yen)"))
    stock = models.PositiveIntegerField(_("stock"))
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("product change")
        verbose_name_plural = _("product changes")
        ordering = ["product", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.product_id}: ¥{self.price}, {self.stock}"
