"""StreamField blocks for the member site's page bodies."""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock


class HeadingBlock(blocks.StructBlock):
    """A section heading at level 2 or 3."""

    text = blocks.CharBlock(max_length=120, label=_("Text"))
    level = blocks.ChoiceBlock(
        choices=[("h2", _("Heading 2")), ("h3", _("Heading 3"))],
        default="h2",
        required=False,
        label=_("Level"),
    )

    class Meta:
        label = _("Heading")
        icon = "title"
        template = "blocks/heading_block.html"


class ImageBlock(blocks.StructBlock):
    """An image with caption; alt text falls back to the image's own description."""

    image = ImageChooserBlock(label=_("Image"))
    alt_text = blocks.CharBlock(
        required=False,
        max_length=200,
        help_text=_("Describe the image for screen readers."),
        label=_("Alt text"),
    )
    caption = blocks.CharBlock(required=False, max_length=250, label=_("Caption"))

    class Meta:
        label = _("Image")
        icon = "image"
        template = "blocks/image_block.html"


class LinkTargetBlock(blocks.StructBlock):
    """Where a button goes: a page on this site or an external URL."""

    page = blocks.PageChooserBlock(required=False, label=_("Page"))
    url = blocks.URLBlock(required=False, label=_("URL"))

    def clean(self, value):
        value = super().clean(value)
        if not value.get("page") and not value.get("url"):
            raise blocks.StructBlockValidationError(
                block_errors={
                    "page": blocks.BlockValidationError(_("Choose a page or enter a URL."))
                }
            )
        return value


class CallToActionBlock(blocks.StructBlock):
    """A highlighted panel with a title, text and one button."""

    title = blocks.CharBlock(max_length=120, label=_("Title"))
    text = blocks.TextBlock(required=False, max_length=500, label=_("Text"))
    button_label = blocks.CharBlock(max_length=40, default="Learn more", label=_("Button label"))
    link = LinkTargetBlock(label=_("Link"))

    class Meta:
        label = _("Call to action")
        icon = "pick"
        template = "blocks/call_to_action_block.html"


class QuoteBlock(blocks.StructBlock):
    """A customer voice or testimonial."""

    quote = blocks.TextBlock(max_length=800, label=_("Quote"))
    attribution = blocks.CharBlock(required=False, max_length=120, label=_("Attribution"))

    class Meta:
        label = _("Quote")
        icon = "openquote"
        template = "blocks/quote_block.html"


RICH_TEXT_FEATURES = ["bold", "italic", "link", "document-link", "ol", "ul", "h3", "h4"]
