"""The bench page as a stock Wagtail site would model it: the project's ContentPage fields
(intro, hero image, body, tags) with a body of the same block kinds, nothing personalized."""

from django.db import models
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from peer_shared.blocks import content_blocks
from taggit.models import TaggedItemBase
from wagtail.fields import StreamField
from wagtail.models import Page


class BenchPageTag(TaggedItemBase):
    content_object = ParentalKey(
        "stock_pages.BenchPage", related_name="tagged_items", on_delete=models.CASCADE
    )


class BenchPage(Page):
    intro = models.TextField(blank=True, max_length=600)
    hero_image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = StreamField(content_blocks(), blank=True, use_json_field=True)
    tags = ClusterTaggableManager(through=BenchPageTag, blank=True)

    template = "peer_shared/bench_page.html"
