"""Products as the shop describes them, the history of their price and stock (triggers and charts
read it), visitors' favourites, the co-occurrence table recommendations read, and CSV imports.
Prices are whole yen."""

from __future__ import annotations

from django.conf import settings
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
        """Save; a price or stock change writes a history row. Either way the change is
        announced (`products_changed`) once it commits."""
        changed = getattr(self, "_tracked", None) != self.tracked_values()
        with transaction.atomic():
            super().save(*args, **kwargs)
            if changed:
                change = ProductChange.objects.create(
                    product=self, price=self.price, stock=self.stock
                )
                changes_announce([change.pk])
            else:
                changes_announce([], product_ids=[self.pk])
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


def changes_announce(change_ids: list[int], *, product_ids: list[int] = ()) -> None:
    """Send `products_changed` once the transaction commits: with these history rows, and the
    products changed in other ways (name, category, picture, URL, active flag)."""
    from personalization.commerce.signals import products_changed

    if change_ids or product_ids:
        changes, others = list(change_ids), list(product_ids)
        transaction.on_commit(
            lambda: products_changed.send(sender=Product, change_ids=changes, product_ids=others)
        )


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


class Favourite(models.Model):
    """A product a visitor (anonymous or member) marked as a favourite. Moves to the member's
    visitor when an anonymous visitor logs in. `price_when_added` lets "on sale" mean cheaper
    than when the visitor chose it."""

    visitor = models.ForeignKey(
        "personalization.Visitor",
        verbose_name=_("visitor"),
        on_delete=models.CASCADE,
        related_name="favourites",
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="favourites"
    )
    price_when_added = models.PositiveIntegerField(_("price when added (yen)"))
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("favourite")
        verbose_name_plural = _("favourites")
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "product"], name="commerce_favourite_unique_visitor_product"
            )
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} ♥ {self.product_id}"


class ProductPair(models.Model):
    """How often two products were viewed or bought together (by the same visitor within the
    job's window): one row per ordered pair, rebuilt by the periodic co-occurrence job."""

    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="pairs"
    )
    other = models.ForeignKey(
        Product, verbose_name=_("other product"), on_delete=models.CASCADE, related_name="+"
    )
    viewed_together = models.PositiveIntegerField(_("viewed together"), default=0)
    bought_together = models.PositiveIntegerField(_("bought together"), default=0)
    score = models.FloatField(_("score"), default=0)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("product pair")
        verbose_name_plural = _("product pairs")
        constraints = [
            models.UniqueConstraint(fields=["product", "other"], name="commerce_pair_unique")
        ]
        indexes = [models.Index(fields=["product", "-score"], name="commerce_pair_product_score")]

    def __str__(self) -> str:
        return f"{self.product_id} + {self.other_id}: {self.score:.3f}"


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    INVALID = "invalid", _("Has errors")
    APPLYING = "applying", _("Applying")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")
    DISCARDED = "discarded", _("Discarded")


class ProductImport(models.Model):
    """One CSV file an editor uploaded: checked first (a dry run with a report), then applied
    as a whole or not at all; `processed_rows` of `total_rows` drives the progress bar."""

    file = models.FileField(_("file"), upload_to="product-imports/")
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.CHECKING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    # Refreshed by every step and progress write: an import running and not updated for a while
    # has lost its worker (the sweep marks it failed).
    updated_at = models.DateTimeField(_("last progress"), auto_now=True)

    class Meta:
        verbose_name = _("product import")
        verbose_name_plural = _("product imports")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.original_name
