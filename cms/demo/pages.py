"""The demo page tree: the home page, the Dogs, Cats and Members sections and their articles,
and the members-only restriction."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from wagtail.models import Page, PageViewRestriction, Site

from cms.demo.catalogue import CATALOGUE_PAGES
from cms.demo.images import ensure_image
from cms.demo.root import ensure_wagtail_root
from cms.demo.specs import DemoPage, Translation, _h, _p
from cms.models import ContentPage, HomePage, SectionPage

HOME_BODY = [
    _h("Picked for your pet"),
    _p(
        "Tell us whether you share your home with a dog or a cat, and the club shows you the "
        "food, care guides and offers that fit them — on this site and in our app."
    ),
    (
        "quote",
        {
            "quote": "The puppy guide arrived the week we brought Coco home. Perfect timing.",
            "attribution": "Mai, member in Yokohama",
        },
    ),
]

DEMO_PAGES: list[DemoPage] = [
    DemoPage(
        "",
        "dogs",
        SectionPage,
        "Dogs",
        "Food, walks and care for every size of dog.",
        "dogs",
        [
            _p("From a first puppy to a senior companion: guides from our staff and vets."),
        ],
        ja=Translation(
            "わんちゃん",
            "小型犬から大型犬まで。フード、お散歩、毎日のお世話のこと。",
            [_p("はじめての子犬からシニア犬まで、スタッフと獣医師がまとめたガイドをどうぞ。")],
        ),
    ),
    DemoPage(
        "",
        "cats",
        SectionPage,
        "Cats",
        "Happy indoor cats: food, play and litter that works.",
        "cats",
        [
            _p("Everything we have learned from thirty years of cat owners at our counters."),
        ],
        ja=Translation(
            "ねこちゃん",
            "おうちで楽しく暮らす猫のために。フード、遊び、失敗しない猫砂選び。",
            [_p("30年間、店頭で猫の飼い主さんたちから教わってきたことを、ここにまとめました。")],
        ),
    ),
    DemoPage(
        "",
        "members",
        SectionPage,
        "Members",
        "Offers and advice for club members only.",
        "members",
        [
            _p("Thank you for being a member. These pages are just for you."),
        ],
        ja=Translation(
            "会員限定",
            "クラブ会員さまだけの特典とアドバイス。",
            [_p("いつもありがとうございます。このページは会員さま専用です。")],
        ),
    ),
    DemoPage(
        "dogs",
        "choosing-dog-food",
        ContentPage,
        "Choosing the right dog food",
        "Puppy, adult or senior? Small or large breed? A short guide to reading the label.",
        "dog-food",
        [
            _h("Start with life stage"),
            _p(
                "Puppies need more protein and calories per kilo than adults; seniors fewer "
                "calories and more fibre. Our <b>life-stage</b> range follows the same split."
            ),
            (
                "quote",
                {
                    "quote": "Switching gradually over a week solved Momo's upset tummy.",
                    "attribution": "Aiko, member since 2021",
                },
            ),
        ],
        ("food", "dog"),
        ja=Translation(
            "ドッグフードの選び方",
            "子犬用、成犬用、シニア用。小型犬と大型犬でも違います。ラベルの読み方をやさしく解説。",
            [
                _h("まずはライフステージから"),
                _p(
                    "子犬は成犬よりも体重1kgあたりのたんぱく質とカロリーが多めに必要で、シニア犬は"
                    "カロリー控えめ・食物繊維多めが基本です。当店の<b>ライフステージ別</b>シリーズも"
                    "この考え方で分けています。"
                ),
                (
                    "quote",
                    {
                        "quote": "1週間かけて少しずつ切り替えたら、モモのお腹が落ち着きました。",
                        "attribution": "アイコさん（2021年から会員）",
                    },
                ),
            ],
        ),
    ),
    DemoPage(
        "dogs",
        "summer-paw-care",
        ContentPage,
        "Summer walks: paw care",
        "Asphalt in August can reach 60 °C. How to protect your dog's paws.",
        "paw-care",
        [
            _h("The five-second test"),
            _p(
                "Put the back of your hand on the pavement. If you can't hold it for five seconds, "
                "it is too hot for paws. Walk early or late, and keep a paw balm at the door."
            ),
        ],
        ("care", "dog", "summer"),
        ja=Translation(
            "夏のお散歩と肉球ケア",
            "真夏のアスファルトは60℃になることも。愛犬の肉球を守るコツをご紹介します。",
            [
                _h("5秒チェック"),
                _p(
                    "手の甲を地面に当ててみてください。5秒がまんできなければ、肉球には熱すぎます。"
                    "お散歩は朝早くか日が沈んでから。玄関に肉球クリームを置いておくと安心です。"
                ),
            ],
        ),
    ),
    DemoPage(
        "dogs",
        "puppy-starter-kit",
        ContentPage,
        "Puppy starter kit",
        "What you need on day one, and what can wait.",
        "puppy",
        [
            _h("Day one"),
            _p(
                "A crate or pen, a bed, food and water bowls, the food the breeder used, a collar "
                "with a tag, a lead, and a few chew toys."
            ),
        ],
        ("dog", "puppy"),
        ja=Translation(
            "子犬のお迎えセット",
            "お迎え初日に必要なものと、あとからそろえれば大丈夫なもの。",
            [
                _h("お迎えの日に"),
                _p(
                    "クレートかサークル、ベッド、フードボウルと水入れ、ブリーダーさんのところで"
                    "食べていたフード、迷子札付きの首輪、リード、それに噛むおもちゃをいくつか。"
                ),
            ],
        ),
    ),
    DemoPage(
        "cats",
        "indoor-cat-enrichment",
        ContentPage,
        "Indoor cat enrichment",
        "Ten minutes of play twice a day keeps an indoor cat fit and calm.",
        "cat-play",
        [
            _h("Hunt, catch, eat, sleep"),
            _p(
                "End each play session with a small meal: it completes the hunting cycle and "
                "helps your cat settle."
            ),
        ],
        ("cat", "play"),
        ja=Translation(
            "室内飼いの猫と遊ぼう",
            "1日2回、10分ずつ遊ぶだけで、室内の猫も元気に、穏やかに過ごせます。",
            [
                _h("狩って、捕まえて、食べて、眠る"),
                _p(
                    "遊びの最後に少しだけごはんをあげましょう。狩りのひと続きが完結して、"
                    "猫も満足して落ち着きます。"
                ),
            ],
        ),
    ),
    DemoPage(
        "cats",
        "grain-free-cat-food",
        ContentPage,
        "A guide to grain-free cat food",
        "Does your cat need grain-free? What the research says.",
        "cat-food",
        [
            _h("What matters most"),
            _p(
                "Cats are obligate carnivores: look for a named meat as the first ingredient. "
                "Grain-free is one option, not a requirement."
            ),
        ],
        ("cat", "food"),
        ja=Translation(
            "グレインフリーのキャットフード",
            "うちの子にグレインフリーは必要？研究でわかっていることをまとめました。",
            [
                _h("いちばん大切なこと"),
                _p(
                    "猫は完全な肉食動物です。原材料の最初に肉や魚の名前があるものを選びましょう。"
                    "グレインフリーは選択肢のひとつで、必ずしも必要ではありません。"
                ),
            ],
        ),
    ),
    DemoPage(
        "cats",
        "litter-that-works",
        ContentPage,
        "Litter that works",
        "Clumping, silica, wood or tofu? Choosing a litter your cat will use.",
        "litter",
        [
            _p("One box per cat plus one, away from food and water, cleaned daily."),
        ],
        ("cat", "care"),
        ja=Translation(
            "失敗しない猫砂選び",
            "鉱物系、シリカゲル、木、おから。猫がちゃんと使ってくれる猫砂の選び方。",
            [_p("トイレは猫の頭数＋1個。ごはんや水から離れた場所に置いて、毎日お掃除を。")],
        ),
    ),
    DemoPage(
        "members",
        "member-offers",
        ContentPage,
        "Member offers this month",
        "Your member prices, updated on the first of each month.",
        "offers",
        [
            _h("This month"),
            _p("10% off all life-stage dog food and free shipping on litter over ¥3,000."),
            (
                "quote",
                {
                    "quote": "The member price on litter pays for the membership in a month.",
                    "attribution": "Kenji, Gold member",
                },
            ),
        ],
        ("offers",),
        ja=Translation(
            "今月の会員特典",
            "会員価格は毎月1日に更新しています。",
            [
                _h("今月の特典"),
                _p("ライフステージ別ドッグフードが全品10%オフ。猫砂は3,000円以上で送料無料です。"),
                (
                    "quote",
                    {
                        "quote": "猫砂の会員価格だけでも、毎月ずいぶん助かっています。",
                        "attribution": "ケンジさん（ゴールド会員）",
                    },
                ),
            ],
        ),
    ),
    DemoPage(
        "members",
        "ask-our-vet",
        ContentPage,
        "Ask our vet",
        "Send a question; our partner vet answers within two working days.",
        "vet",
        [
            _p("Members can ask one question a month. For emergencies, call your local clinic."),
        ],
        ("care",),
        ja=Translation(
            "獣医師に相談",
            "ご質問をお送りください。提携の獣医師が2営業日以内にお答えします。",
            [
                _p(
                    "ご相談は会員さま1人につき月1回まで。急を要するときは、かかりつけの動物病院へお電話ください。"
                )
            ],
        ),
    ),
]

# The Shop section and the longer articles, after the pages above (their sections come first).
DEMO_PAGES += CATALOGUE_PAGES


@transaction.atomic
def ensure_home() -> HomePage:
    """The site's HomePage, replacing Wagtail's placeholder welcome page on first run (the
    default site's root; its translations, the Japanese home page, are not it)."""
    site_root = Site.objects.filter(is_default_site=True).values_list("root_page", flat=True)
    home = (
        HomePage.objects.filter(pk__in=site_root).first()
        or HomePage.objects.order_by("path").first()
    )
    if home is None:
        root = ensure_wagtail_root()
        home = HomePage(
            title="Pawprint Club",
            slug="pawprint-club",
            hero_title="Everything your pet loves, picked for you",
            hero_text="Join the club for member prices, care guides from our vets, and offers "
            "that fit your dog or cat.",
            hero_image=ensure_image("hero-home"),
            hero_cta_label="Join free",
            body=HOME_BODY,
        )
        root.add_child(instance=home)
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            root_page=home,
            is_default_site=True,
            site_name=settings.WAGTAIL_SITE_NAME,
        )
    elif site.root_page_id != home.pk:
        placeholder = site.root_page
        site.root_page = home
        site.site_name = settings.WAGTAIL_SITE_NAME
        site.save()
        if type(placeholder.specific) is Page and not placeholder.get_children().exists():
            placeholder.delete()
    return home


@transaction.atomic
def ensure_page(home: HomePage, spec: DemoPage) -> Page:
    """One demo page, created and published if its slug is not there yet."""
    parent = home if not spec.parent else home.get_children().get(slug=spec.parent)
    existing = parent.get_children().filter(slug=spec.slug).first()
    if existing:
        return existing
    image = ensure_image(spec.picture)
    image_field = "hero_image" if spec.model is ContentPage else "image"
    page = spec.model(
        title=spec.title,
        slug=spec.slug,
        intro=spec.intro,
        body=spec.body,
        show_in_menus=spec.parent == "",
        **{image_field: image},
    )
    parent.add_child(instance=page)
    if spec.tags:
        page.tags.add(*spec.tags)
    page.save_revision().publish()
    return page


def ensure_members_only(home: HomePage) -> PageViewRestriction:
    """Only logged-in members may read the Members section (Wagtail privacy)."""
    members = home.get_children().get(slug="members")
    restriction, _ = PageViewRestriction.objects.get_or_create(
        page=members, defaults={"restriction_type": PageViewRestriction.LOGIN}
    )
    return restriction


def ensure_hero_link(home: HomePage) -> None:
    """Point the home hero's button at the sign-up-friendly Members section."""
    if home.hero_cta_page_id is None:
        home.hero_cta_page = home.get_children().get(slug="members")
        home.save_revision().publish()
