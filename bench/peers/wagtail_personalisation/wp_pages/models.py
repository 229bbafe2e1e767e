"""The bench page with wagtail-personalisation's per-block personalization: a
PersonalisedStructBlock (the package's segment choice) holding the variant's blocks, one per
variant segment, in the body beside the same content blocks as the stock page."""

from django.db import models
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from peer_shared.blocks import content_blocks
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail_personalisation.blocks import PersonalisedStructBlock


class PersonalisedContentBlock(PersonalisedStructBlock):
    """Blocks shown only to the chosen segment (the package renders "" to everyone else)."""

    content = blocks.StreamBlock(content_blocks()[:3])  # heading, paragraph, image

    class Meta:
        template = "wp_pages/personalised_block.html"


class BenchPageTag(TaggedItemBase):
    content_object = ParentalKey(
        "wp_pages.BenchPage", related_name="tagged_items", on_delete=models.CASCADE
    )


class BenchPage(Page):
    intro = models.TextField(blank=True, max_length=600)
    hero_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = StreamField(
        [*content_blocks(), ("personalised", PersonalisedContentBlock())],
        blank=True,
        use_json_field=True,
    )
    tags = ClusterTaggableManager(through=BenchPageTag, blank=True)

    template = "peer_shared/bench_page.html"
