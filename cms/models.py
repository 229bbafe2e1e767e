"""The member site's page types: home, sections, content pages."""

from __future__ import annotations

from django.contrib import messages
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.personalized_blocks import BodyStreamBlock
from cms.selectors import page_children_visible


def preview_segments_from_mode(mode_name: str) -> list[int]:
    """Segment ids of a preview mode: "segment-3", or combined as "segment-3+7"."""
    if not mode_name.startswith("segment-"):
        return []
    parts = mode_name.removeprefix("segment-").split("+")
    return [int(part) for part in parts[:20] if part.isdigit()]


class PersonalizedPreviewMixin:
    """Preview a page as a segment sees it (or several: mode=segment-3+7), or as everyone else.

    The segments this page's blocks consult come first in the preview mode menu (from the
    stored usage of its latest and live revisions, `RevisionPersonalization`). Combining
    segments is offered beside the menu (`cms/js/preview_segments.js`): it adds the combined
    mode to the same menu, so Wagtail's own preview machinery (refresh, new tab) serves it."""

    def preview_segment_ids_used(self) -> list[int]:
        """Segments the page's latest or live revision consults, in the order they do."""
        revision_ids = {getattr(self, "latest_revision_id", None), self.live_revision_id} - {None}
        rows = RevisionPersonalization.objects.filter(revision_id__in=revision_ids)
        used: dict[int, None] = {}
        for segment_ids in rows.order_by("-revision_id").values_list("segment_ids", flat=True):
            used.update(dict.fromkeys(segment_ids))
        return list(used)

    @property
    def preview_modes(self):
        from personalization.models import Segment

        names = dict(Segment.objects.filter(enabled=True).values_list("pk", "name"))
        used = [pk for pk in self.preview_segment_ids_used() if pk in names]
        others = sorted((pk for pk in names if pk not in used), key=lambda pk: names[pk].lower())
        return [
            ("", _("Everyone else (default content)")),
            *(
                (
                    f"segment-{pk}",
                    _("As segment: %(name)s (used on this page)") % {"name": names[pk]},
                )
                for pk in used
            ),
            *((f"segment-{pk}", _("As segment: %(name)s") % {"name": names[pk]}) for pk in others),
        ]

    def serve_preview(self, request, mode_name):
        wanted = preview_segments_from_mode(mode_name or "")
        request.personalization_preview_segments = wanted
        self._notice_unknown_preview_segments(request, mode_name or "", wanted)
        return super().serve_preview(request, "")

    @staticmethod
    def _notice_unknown_preview_segments(request, mode_name: str, wanted: list[int]) -> None:
        """A preview mode naming a segment that does not exist (or is disabled) shows a notice
        in the preview instead of silently showing the default content."""
        from personalization.models import Segment

        if not mode_name:
            return
        parts = mode_name.removeprefix("segment-").split("+")
        enabled = Segment.objects.filter(pk__in=wanted, enabled=True).values_list("pk", flat=True)
        known = {str(pk) for pk in enabled}
        missing = [part for part in parts if part not in known]
        if not mode_name.startswith("segment-"):
            missing = [mode_name]
        if missing:
            messages.warning(
                request,
                _("Preview: there is no enabled segment “%(ids)s”; it is left out.")
                % {"ids": "”, “".join(missing)},
                fail_silently=True,
            )


class HomePage(PersonalizedPreviewMixin, Page):
    """The site's front page: a hero and a body."""

    hero_title = models.CharField(_("hero title"), max_length=120, blank=True)
    hero_text = models.TextField(_("hero text"), blank=True, max_length=400)
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("hero image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    hero_cta_label = models.CharField(_("hero button label"), max_length=40, blank=True)
    hero_cta_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("hero button page"),
    )
    body = StreamField(BodyStreamBlock(), verbose_name=_("body"), blank=True, use_json_field=True)

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldPanel("hero_title"),
                FieldPanel("hero_text"),
                FieldPanel("hero_image"),
                FieldPanel("hero_cta_label"),
                FieldPanel("hero_cta_page"),
            ],
            heading=_("Hero"),
        ),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("body")]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["hero_call"] = self.hero_call()
        context["featured"] = self.featured()
        return context

    def featured(self, per_group: int = 4) -> dict[str, list]:
        """The newest pages everyone may read, for the home page's two rows of cards: products
        (pages tagged "product") and guides. The same for every visitor, so they belong in the
        shared render; members-only pages are left out."""
        from wagtail.models import PageViewRestriction

        pages = ContentPage.objects.live().descendant_of(self).order_by("-first_published_at")
        for path in PageViewRestriction.objects.values_list("page__path", flat=True):
            pages = pages.exclude(path__startswith=path)
        products = pages.filter(tags__name="product")
        guides = pages.exclude(pk__in=products.values("pk"))
        return {
            "products": list(products.select_related("hero_image")[:per_group]),
            "guides": list(guides.select_related("hero_image")[:per_group]),
        }

    def hero_call(self) -> dict:
        """The hero button's link, and whether it leads into a members-only area: then an
        anonymous visitor is sent to sign-up instead of a log-in wall, and a member is offered
        the member area (`includes/hero_call.html`, filled per visitor)."""
        target = self.hero_cta_page
        if target is None or not target.live:
            return {"url": "", "members_only": False}
        members_only = target.get_view_restrictions().exists()
        return {"url": target.get_url() or "", "members_only": members_only}


class SectionPage(PersonalizedPreviewMixin, Page):
    """A section of the site that lists its child pages."""

    intro = models.TextField(_("intro"), blank=True, max_length=600)
    image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = StreamField(BodyStreamBlock(), verbose_name=_("body"), blank=True, use_json_field=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("image"),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro")]
    parent_page_types = ["cms.HomePage", "cms.SectionPage"]
    subpage_types = ["cms.ContentPage", "cms.SectionPage"]

    class Meta:
        verbose_name = _("section page")

    @property
    def card_image(self):
        """The picture used when this page is listed in a section."""
        return self.image

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["children"] = page_children_visible(page=self, request=request)
        return context


class ContentPageTag(TaggedItemBase):
    content_object = ParentalKey(
        "cms.ContentPage", related_name="tagged_items", on_delete=models.CASCADE
    )


class ContentPage(PersonalizedPreviewMixin, Page):
    """An article or product story: intro, hero image and a body of blocks."""

    intro = models.TextField(_("intro"), blank=True, max_length=600)
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("hero image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = StreamField(BodyStreamBlock(), verbose_name=_("body"), blank=True, use_json_field=True)
    tags = ClusterTaggableManager(through=ContentPageTag, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("hero_image"),
        FieldPanel("body"),
    ]
    promote_panels = [*Page.promote_panels, FieldPanel("tags")]
    search_fields = [
        *Page.search_fields,
        index.SearchField("intro"),
        index.SearchField("body"),
    ]
    parent_page_types = ["cms.HomePage", "cms.SectionPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("content page")

    @property
    def card_image(self):
        """The picture used when this page is listed in a section."""
        return self.hero_image


class RevisionPersonalization(models.Model):
    """What a saved page revision's content depends on besides the page itself: the segments
    its blocks consult (in the order they consult them), the experiments its A/B blocks test,
    the kinds of per-visitor blocks ("holes") it holds, and whether it shows the shop's
    products (its cached renders then follow the catalogue's version too).

    Recorded when the revision is saved or published (`cms.signals`), so a request's
    personalization key (`cms.render_cache.keys`) is built from one stored row, never by
    walking the StreamField per request."""

    revision = models.OneToOneField(
        "wagtailcore.Revision", on_delete=models.CASCADE, related_name="personalization"
    )
    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="+")
    segment_ids = models.JSONField(default=list, blank=True)
    experiment_keys = models.JSONField(default=list, blank=True)
    holes = models.JSONField(default=list, blank=True)
    catalogue = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"revision {self.revision_id}: segments {self.segment_ids}"
