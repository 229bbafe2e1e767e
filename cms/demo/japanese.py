"""The demo site in Japanese, served under /ja/: Wagtail translations of the English pages, as an
editor makes them with "Translate" in the admin (`copy_for_translation`), with the Japanese text
written for Japanese members (`DemoPage.ja`, and here the home page's and the personalized
blocks' text). The personalized blocks use the same segments as the English ones.

Idempotent like the rest of the demo: a page that already has its Japanese version is left as
the editors have it; a demo page without `ja` is not translated."""

from __future__ import annotations

from django.db import transaction
from wagtail.models import Locale, Page, PageViewRestriction

from cms.demo.images import ensure_image
from cms.demo.pages import DEMO_PAGES, DemoPage
from cms.demo.personalized import HomeTexts, ensure_segments, stored_block
from cms.demo.personalized import home_blocks as personalized_home_blocks
from cms.models import HomePage

LANGUAGE = "ja"

HOME_JA = {
    "hero_title": "うちの子が喜ぶものを、あなたに合わせて",
    "hero_text": "クラブに入ると、会員価格、獣医師が監修したお世話ガイド、わんちゃん・ねこちゃんに"
    "合わせたお得な情報が届きます。",
    "hero_cta_label": "無料で入会する",
}
HOME_BODY_JA = [
    ("heading", {"text": "うちの子にぴったりを", "level": "h2"}),
    (
        "paragraph",
        "<p>わんちゃん派か、ねこちゃん派かを教えてください。その子に合ったフードやお世話のガイド、"
        "お得な情報を、このサイトとアプリでお届けします。</p>",
    ),
    (
        "quote",
        {
            "quote": "ココを迎えたその週に子犬ガイドが届いて、タイミングばっちりでした。",
            "attribution": "マイさん（横浜市・会員）",
        },
    ),
]
HOME_VARIANTS_JA = {
    "cart-abandoners": (
        "カートに商品が残っています",
        "今日中にご注文いただくと、送料無料でお届けします。",
    ),
    "newsletter-readers": (
        "メルマガをお読みいただきありがとうございます",
        "今週はメルマガ読者さま限定で、フードのご注文がすべて10%オフです。",
    ),
    "big-spenders": (
        "いつもご愛顧いただきありがとうございます",
        "次回の獣医師相談は無料です。店頭でお気軽にお声がけください。",
    ),
    "cat-food-buyers": (
        "キャットフード、そろそろ補充しませんか？",
        "前回のご購入から少し経ちました。ワンクリックで再注文できます。",
    ),
    "dog-section-fans": (
        "今月のわんちゃん向け新着",
        "フードやお散歩、お手入れの新しいガイドと、年齢を問わずわんちゃんにおすすめの今月の品です。",
    ),
    "dog-people": (
        "わんちゃんのためのおすすめ",
        "肉球クリーム、長持ちするおやつ、夏のお散歩のコツ。犬と暮らす方向けに選びました。",
    ),
    "women-20s": (
        "お仕事帰りに受け取れます",
        "夜10時までにスマホでご注文いただければ、翌日の夜の時間帯を選んでお届けします。",
    ),
    "tokyo-members": (
        "渋谷店で受け取れます",
        "15時までのご注文で、その日の夕方から渋谷店でお受け取りいただけます。",
    ),
    "overseas-visitors": (
        "海外へもお届けします",
        "海外にお住まいの会員さまは、国際送料が全国一律料金になります。",
    ),
    "mobile-visitors": (
        "スマホでかんたんお買い物",
        "うちの子のお気に入りを登録して、スマホからすぐに再注文。",
    ),
    "club-members": (
        "いつもクラブをご利用いただきありがとうございます",
        "会員価格はすべてのご注文に適用されます。今月の特典は会員ページでご覧いただけます。",
    ),
}
DEFAULT_HOME_MESSAGE_JA = (
    "入会金・年会費無料のクラブです",
    "会員価格、獣医師のアドバイス、うちの子に合わせたお得な情報をお届けします。",
)


def _stored(blocks: list[tuple[str, object]]) -> list[dict]:
    """A demo body (`(type, value)` pairs) in StreamField's stored form."""
    return [stored_block(block_type, value) for block_type, value in blocks]


HOME_TEXTS_JA = HomeTexts(
    variants=HOME_VARIANTS_JA,
    default=DEFAULT_HOME_MESSAGE_JA,
    greeting="おかえりなさい、{name}さん！",
    anonymous_greeting="Pawprint Clubへようこそ",
    form=(
        "うちの子のことを教えてください",
        "2つの質問に答えるだけで、ぴったりの情報をお見せします。",
        "おすすめを見る",
    ),
    offer=(
        "猫砂の送料無料キャンペーン",
        "今週限定：猫砂のご注文が3,000円以上で送料無料になります。",
        "猫砂を見る",
        "会員さまは毎月、猫砂をお得に買えます。",
    ),
    picks="あなたへのおすすめ",
)


def home_blocks(offer_page: Page) -> list[dict]:
    """The Japanese home page's greeting, per-segment message, profile form and offer (built as
    the English ones, on the same segments), then its text."""
    return personalized_home_blocks(HOME_TEXTS_JA, offer_page) + _stored(HOME_BODY_JA)


def dogs_section_blocks() -> list[dict]:
    """The Japanese Dogs section's personalized picture and tip for dog people."""
    segments = ensure_segments()
    variant = {
        "segment": str(segments["dog-people"].pk),
        "content": [
            stored_block(
                "image",
                {
                    "image": ensure_image("paw-care").pk,
                    "alt_text": "うれしそうな犬",
                    "caption": "あなたとわんちゃんのために",
                },
            ),
            stored_block(
                "paragraph", "<p>今月の犬の飼い主さんの人気No.1は、夏用の肉球クリームです。</p>"
            ),
        ],
    }
    default = [
        stored_block("paragraph", "<p>どんな大きさのわんちゃんも、まずは下のガイドからどうぞ。</p>")
    ]
    return [stored_block("personalized", {"variants": [variant], "default": default})]


def _translated(page: Page, locale: Locale, fields: dict) -> Page:
    """The page's translation into `locale`: made (as the admin's "Translate" does), given its
    text and published the first time; afterwards left as the editors have it."""
    existing = page.get_translation_or_none(locale)
    if existing is not None:
        return existing.specific
    translation = page.specific.copy_for_translation(locale)
    for field, value in fields.items():
        setattr(translation, field, value)
    translation.save_revision().publish()
    return translation


def _english_page(home: HomePage, spec: DemoPage) -> Page | None:
    parent = home if not spec.parent else home.get_children().filter(slug=spec.parent).first()
    if parent is None:
        return None
    return parent.get_children().filter(slug=spec.slug).first()


@transaction.atomic
def ensure_japanese_site(home: HomePage) -> HomePage:
    """The Japanese home page and every demo page that has Japanese text (`DemoPage.ja`), with
    the Members section members-only, as in English."""
    locale, _ = Locale.objects.get_or_create(language_code=LANGUAGE)
    home = HomePage.objects.get(pk=home.pk)
    ja_home = home.get_translation_or_none(locale)
    if ja_home is None:
        ja_home = _translated(home, locale, {**HOME_JA, "body": []})
    ja_home = ja_home.specific
    sections_first = sorted(DEMO_PAGES, key=lambda spec: bool(spec.parent))
    for spec in sections_first:
        if spec.ja is None:
            continue
        page = _english_page(home, spec)
        if page is None or page.get_parent().get_translation_or_none(locale) is None:
            continue  # not built in English, or its section has no Japanese version
        body = _stored(spec.ja.body)
        if spec.slug == "dogs" and not spec.parent:
            body = dogs_section_blocks() + body
        _translated(page, locale, {"title": spec.ja.title, "intro": spec.ja.intro, "body": body})
    members = ja_home.get_children().filter(slug="members").first()
    if members is not None:
        PageViewRestriction.objects.get_or_create(
            page=members, defaults={"restriction_type": PageViewRestriction.LOGIN}
        )
    ja_home = HomePage.objects.get(pk=ja_home.pk)  # with its children counted (treebeard)
    if not ja_home.body:
        if members is not None:
            ja_home.hero_cta_page = members
        cats = ja_home.get_children().filter(slug="cats").first()
        litter = cats.get_children().filter(slug="litter-that-works").first() if cats else None
        ja_home.body = home_blocks(litter or members or ja_home)
        ja_home.save_revision().publish()
    return ja_home
