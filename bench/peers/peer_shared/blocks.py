"""The content blocks of the bench page, as the project's cms/blocks.py defines them (same
fields, same templates), so the baselines render the same markup from the same data."""

from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

RICH_TEXT_FEATURES = ["bold", "italic", "link", "document-link", "ol", "ul", "h3", "h4"]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=120)
    level = blocks.ChoiceBlock(
        choices=[("h2", "Heading 2"), ("h3", "Heading 3")], default="h2", required=False
    )

    class Meta:
        template = "blocks/heading_block.html"


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt_text = blocks.CharBlock(required=False, max_length=200)
    caption = blocks.CharBlock(required=False, max_length=250)

    class Meta:
        template = "blocks/image_block.html"


class LinkTargetBlock(blocks.StructBlock):
    page = blocks.PageChooserBlock(required=False)
    url = blocks.URLBlock(required=False)


class CallToActionBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=120)
    text = blocks.TextBlock(required=False, max_length=500)
    button_label = blocks.CharBlock(max_length=40, default="Learn more")
    link = LinkTargetBlock()

    class Meta:
        template = "blocks/call_to_action_block.html"


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock(max_length=800)
    attribution = blocks.CharBlock(required=False, max_length=120)

    class Meta:
        template = "blocks/quote_block.html"


def content_blocks() -> list[tuple[str, blocks.Block]]:
    """The block kinds of the bench page, by the names the project's body uses."""
    return [
        ("heading", HeadingBlock()),
        ("paragraph", blocks.RichTextBlock(features=RICH_TEXT_FEATURES)),
        ("image", ImageBlock()),
        ("call_to_action", CallToActionBlock()),
        ("quote", QuoteBlock()),
    ]
