"""More demo pages: the Shop section with product pages, and longer articles for the Dogs and
Cats sections, each in English and in Japanese (`ja`, written for Japanese pet owners).

`cms.demo.pages` appends `CATALOGUE_PAGES` to `DEMO_PAGES`, so `load_demo` builds them after
the first pages (their parents, the sections, come first)."""

from __future__ import annotations

from cms.demo.specs import DemoPage, Translation, _h, _p
from cms.models import ContentPage, SectionPage


def _quote(text: str, who: str) -> tuple[str, dict]:
    return ("quote", {"quote": text, "attribution": who})


def _products(heading: str, *, category: str = "", pet_type: str = "", limit: int = 8):
    """A list of product cards (`cms.product_blocks.ProductListBlock`) of the demo catalogue
    (`cms.demo.products`): the products of a category and/or a pet."""
    value = {"heading": heading, "category": category, "pet_type": pet_type, "limit": limit}
    return ("products", {**value, "products": []})


def _facts(*rows: str) -> tuple[str, str]:
    """A product's facts as a bulleted list."""
    items = "".join(f"<li>{row}</li>" for row in rows)
    return ("paragraph", f"<ul>{items}</ul>")


SHOP = DemoPage(
    "",
    "shop",
    SectionPage,
    "Shop",
    "Food, care and toys our staff use at home, with member prices on every one.",
    "shop",
    [
        _p(
            "Every product here has been tried by our staff's own dogs and cats before it reached "
            "our shelves. Members pay the member price shown on each page, in store and online."
        ),
        _products("For dogs", pet_type="dog"),
        _products("For cats", pet_type="cat"),
        _products("Treats everyone loves", category="treats"),
        _products("Rabbits, hamsters and birds", pet_type="other", limit=4),
    ],
    ja=Translation(
        "ショップ",
        "スタッフが自宅の子たちで試したフード、ケア用品、おもちゃ。すべて会員価格でお求めいただけます。",
        [
            _p(
                "ここに並ぶ商品は、どれもスタッフの愛犬・愛猫がまず試してから店頭に置いたものです。"
                "会員さまは店頭でもオンラインでも、各ページの会員価格でご購入いただけます。"
            ),
            _products("わんちゃんに", pet_type="dog"),
            _products("ねこちゃんに", pet_type="cat"),
            _products("みんな大好きなおやつ", category="treats"),
            _products("うさぎ・ハムスター・小鳥に", pet_type="other", limit=4),
        ],
    ),
)

PRODUCTS = [
    DemoPage(
        "shop",
        "salmon-senior-dog-food",
        ContentPage,
        "Salmon & rice senior dog food, 3 kg",
        "Gentle on older tummies and joints: salmon as the first ingredient, fewer calories.",
        "senior-dog-food",
        [
            _facts(
                "Price ¥3,980 · member price ¥3,580",
                "For dogs from 7 years, all sizes",
                "Salmon, rice, oats; added glucosamine and omega-3",
                "Made in Hokkaido; resealable 3 kg bag",
            ),
            _h("Why we stock it"),
            _p(
                "Older dogs move less and put on weight easily. This recipe has 15% fewer "
                "calories than our adult food, with fish oil and glucosamine for stiff joints. "
                "The small, soft kibble is easy on older teeth."
            ),
            _h("Switching over"),
            _p(
                "Mix it into the current food over seven days: a quarter on day one, half on day "
                "three, three quarters on day five. Ask at the counter for a free 100 g sample."
            ),
            _quote(
                "Our fourteen-year-old shiba finishes her bowl again. No more picking at it.",
                "Sachiko, member in Sapporo",
            ),
        ],
        ("product", "dog", "food", "senior"),
        ja=Translation(
            "サーモン＆ライス シニア犬用フード 3kg",
            "シニアのお腹と関節にやさしいレシピ。主原料はサーモン、カロリーは控えめです。",
            [
                _facts(
                    "価格 3,980円（会員価格 3,580円）",
                    "7歳以上の全犬種に",
                    "サーモン、米、オーツ麦。グルコサミンとオメガ3を配合",
                    "北海道産・チャック付き3kg袋",
                ),
                _h("お店が選んだ理由"),
                _p(
                    "年を重ねると運動量が減り、体重が増えやすくなります。このフードは当店の成犬用より"
                    "カロリーを15％おさえ、関節をサポートする魚油とグルコサミンを加えました。"
                    "粒は小さくやわらかめで、歯が弱くなった子も食べやすい設計です。"
                ),
                _h("切り替えのコツ"),
                _p(
                    "今のフードに7日かけて混ぜていきましょう。1日目は4分の1、3日目に半分、"
                    "5日目に4分の3が目安です。店頭で100gの無料サンプルもお渡ししています。"
                ),
                _quote(
                    "14歳の柴犬が、またお皿をきれいに空けてくれるようになりました。",
                    "サチコさん（札幌の会員）",
                ),
            ],
        ),
    ),
    DemoPage(
        "shop",
        "tofu-cat-litter",
        ContentPage,
        "Tofu cat litter, 7 L",
        "Light, low-dust and flushable in small amounts: the litter our cat staff prefer.",
        "tofu-litter",
        [
            _facts(
                "Price ¥1,280 · member price ¥1,150",
                "7 litres, about a month for one cat",
                "Made from okara (soy pulp); green-tea scent",
                "Clumps firmly; small clumps can go down the toilet",
            ),
            _h("Why we stock it"),
            _p(
                "It weighs a third of clay litter, so carrying a bag home from the station is "
                "easy. It makes almost no dust, which matters for cats with sensitive noses and "
                "for the people who scoop every morning."
            ),
            _h("Good to know"),
            _p(
                "If your cat is used to clay, mix the two for the first week. Keep the bag closed: "
                "tofu litter absorbs moisture from humid air in the rainy season."
            ),
            _quote(
                "Mugi switched without a fuss, and the hallway no longer smells.",
                "Ryo, member in Osaka",
            ),
        ],
        ("product", "cat", "litter"),
        ja=Translation(
            "おからの猫砂 7L",
            "軽くてほこりが少なく、少量ならトイレに流せます。スタッフの猫たちのお気に入り。",
            [
                _facts(
                    "価格 1,280円（会員価格 1,150円）",
                    "7L・猫1匹でおよそ1か月分",
                    "原料はおから。ほのかな緑茶の香り",
                    "しっかり固まり、少量ずつならトイレに流せます",
                ),
                _h("お店が選んだ理由"),
                _p(
                    "重さは鉱物系の砂の約3分の1。駅から歩いて持ち帰るのもらくらくです。"
                    "ほこりがほとんど立たないので、鼻の敏感な猫にも、毎朝お掃除する飼い主さんにも"
                    "やさしい猫砂です。"
                ),
                _h("ご注意"),
                _p(
                    "鉱物系の砂に慣れている子は、最初の1週間だけ混ぜて使ってください。"
                    "梅雨どきは湿気を吸いやすいので、袋の口はしっかり閉じて保管しましょう。"
                ),
                _quote(
                    "ムギはすんなり切り替えてくれて、廊下のにおいも気にならなくなりました。",
                    "リョウさん（大阪の会員）",
                ),
            ],
        ),
    ),
    DemoPage(
        "shop",
        "cooling-paw-balm",
        ContentPage,
        "Cooling paw balm, 30 g",
        "Beeswax and shea butter with a little mint: for paws after hot pavements.",
        "paw-balm",
        [
            _facts(
                "Price ¥1,650 · member price ¥1,480",
                "30 g tin, about two months of daily use",
                "Beeswax, shea butter, coconut oil, peppermint",
                "Safe if licked; no fragrance added",
            ),
            _h("How to use"),
            _p(
                "After the evening walk, wipe the paws with a damp towel and rub a pea-sized "
                "amount into each pad. Give your dog a chew while it soaks in, so the balm stays "
                "on the paws rather than on the tongue."
            ),
            _quote(
                "Kuro's pads were cracked every August. Not this year.",
                "Daisuke, member in Fukuoka",
            ),
        ],
        ("product", "dog", "care", "summer"),
        ja=Translation(
            "ひんやり肉球クリーム 30g",
            "みつろうとシアバターに、ほんの少しミントを。熱いアスファルトを歩いたあとの肉球に。",
            [
                _facts(
                    "価格 1,650円（会員価格 1,480円）",
                    "30g缶・毎日使って約2か月分",
                    "みつろう、シアバター、ココナッツオイル、ペパーミント",
                    "なめても安心な成分・香料無添加",
                ),
                _h("使い方"),
                _p(
                    "夕方のお散歩のあと、ぬらしたタオルで足を拭いてから、肉球ひとつにつき米粒大を"
                    "なじませます。なじむまでの間はガムをあげると、クリームをなめずに待ってくれます。"
                ),
                _quote(
                    "毎年8月になるとクロの肉球がひび割れていたのに、今年は大丈夫でした。",
                    "ダイスケさん（福岡の会員）",
                ),
            ],
        ),
    ),
    DemoPage(
        "shop",
        "feather-wand-toy",
        ContentPage,
        "Feather wand cat toy",
        "A bendy rod, a long string and real feathers: the toy that wakes up lazy cats.",
        "feather-toy",
        [
            _facts(
                "Price ¥880 · member price ¥790",
                "Rod 60 cm, string 80 cm",
                "Two spare feather ends in the pack",
            ),
            _h("Play like prey"),
            _p(
                "Move the feathers away from your cat, not towards it, and let them hide behind "
                "the sofa now and then. Five to ten minutes, twice a day, then a small meal: see "
                "our guide to indoor cat enrichment."
            ),
            _p("Put the wand away after play: string toys are not for cats to chew alone."),
            _quote(
                "Our twelve-year-old suddenly plays like a kitten.",
                "Emi, member in Nagoya",
            ),
        ],
        ("product", "cat", "play"),
        ja=Translation(
            "羽根つき猫じゃらし",
            "よくしなるロッド、長めのひも、本物の羽根。ごろごろしがちな猫も思わず本気になります。",
            [
                _facts(
                    "価格 880円（会員価格 790円）",
                    "ロッド60cm・ひも80cm",
                    "交換用の羽根2本つき",
                ),
                _h("獲物らしく動かすのがコツ"),
                _p(
                    "羽根は猫に向かってではなく、猫から離れるように動かし、ときどきソファの陰に"
                    "隠してみましょう。1回5〜10分を1日2回、遊んだあとに少しごはんを。"
                    "くわしくは「室内猫の遊びと運動」の記事をどうぞ。"
                ),
                _p(
                    "遊び終わったら片付けてください。ひものおもちゃは猫だけで遊ばせないようにしましょう。"
                ),
                _quote(
                    "12歳の子が、子猫みたいに遊ぶようになりました。",
                    "エミさん（名古屋の会員）",
                ),
            ],
        ),
    ),
    DemoPage(
        "shop",
        "reflective-night-lead",
        ContentPage,
        "Reflective night-walk lead",
        "Seen by drivers 150 m away, soft on your hands on the long evening walk.",
        "night-lead",
        [
            _facts(
                "Price ¥2,480 · member price ¥2,230",
                "1.5 m, padded handle, for dogs up to 30 kg",
                "Reflective thread woven through the whole length",
            ),
            _h("Why we stock it"),
            _p(
                "In summer many of our members walk after dark to spare their dogs' paws. A lead "
                "that catches headlights makes those walks safer for both of you; pair it with a "
                "light on the collar."
            ),
            _quote(
                "Drivers slow down for us now on the unlit road by the river.",
                "Takeshi, member in Saitama",
            ),
        ],
        ("product", "dog", "walks"),
        ja=Translation(
            "反射リード（夜のお散歩用）",
            "150m先のドライバーからも見えるリード。持ち手がやわらかく、長めのお散歩も手が痛くなりません。",
            [
                _facts(
                    "価格 2,480円（会員価格 2,230円）",
                    "長さ1.5m・クッション付きハンドル・体重30kgまで",
                    "全体に反射糸を織り込み",
                ),
                _h("お店が選んだ理由"),
                _p(
                    "夏は肉球を守るために、日が暮れてからお散歩する会員さまがたくさんいらっしゃいます。"
                    "ライトを反射するリードなら、暗い道でも飼い主さんと愛犬の安全につながります。"
                    "首輪につけるライトと一緒に使うのがおすすめです。"
                ),
                _quote(
                    "川沿いの街灯のない道でも、車がスピードを落としてくれるようになりました。",
                    "タケシさん（埼玉の会員）",
                ),
            ],
        ),
    ),
    DemoPage(
        "shop",
        "chicken-dental-chews",
        ContentPage,
        "Chicken dental chews, 20 pieces",
        "One a day after dinner: a chew shaped to reach the back teeth.",
        "dental-chews",
        [
            _facts(
                "Price ¥1,100 · member price ¥990",
                "20 chews for dogs of 5–15 kg",
                "Chicken, rice flour, green tea extract; no artificial colours",
            ),
            _h("Not a toothbrush, but a help"),
            _p(
                "Chews slow down tartar between brushings; they don't replace them. Count a chew "
                "in your dog's daily food, and always give it where you can see your dog eat."
            ),
            _quote(
                "The vet noticed the difference at the yearly check-up.",
                "Noriko, member in Kobe",
            ),
        ],
        ("product", "dog", "care"),
        ja=Translation(
            "チキンのデンタルガム 20本入り",
            "夕食後に1日1本。奥歯まで届く形のデンタルガムです。",
            [
                _facts(
                    "価格 1,100円（会員価格 990円）",
                    "体重5〜15kgの犬用・20本入り",
                    "チキン、米粉、緑茶エキス。合成着色料不使用",
                ),
                _h("歯みがきの代わりではなく、助っ人に"),
                _p(
                    "ガムは歯みがきと歯みがきの間の歯石をおさえる助けになりますが、歯みがきの代わりには"
                    "なりません。1日のごはんの量に含めて考え、食べ終わるまでそばで見守ってください。"
                ),
                _quote(
                    "年に一度の健診で、獣医さんに歯がきれいになったと言われました。",
                    "ノリコさん（神戸の会員）",
                ),
            ],
        ),
    ),
]

ARTICLES = [
    DemoPage(
        "dogs",
        "first-week-with-a-rescue-dog",
        ContentPage,
        "The first week with a rescue dog",
        "Quiet days, a fixed routine and a lot of patience: how to help an adopted dog settle.",
        "rescue-dog",
        [
            _h("Days one to three: let them decompress"),
            _p(
                "A dog from a shelter has just lost everything familiar. Keep the first days "
                "quiet: no visitors, short walks on the same route, and a bed in a calm corner "
                "where nobody disturbs them."
            ),
            _h("Days four to seven: build the routine"),
            _p(
                "Meals, walks and bedtime at the same times every day tell your dog what comes "
                "next. Start short training sessions with treats — sit, wait, come — and keep "
                "them to five minutes."
            ),
            _p(
                "Book a check-up with your vet in the first two weeks, and bring the shelter's "
                "records."
            ),
            _quote(
                "Hana hid behind the sofa for four days. Now she runs to the door when I get home.",
                "Miho, member in Kyoto",
            ),
        ],
        ("dog", "adoption"),
        ja=Translation(
            "保護犬を迎えた最初の1週間",
            "静かな毎日、決まった生活リズム、そしてたっぷりの根気。保護犬が新しいおうちに慣れるまで。",
            [
                _h("1〜3日目：まずはゆっくり休ませて"),
                _p(
                    "保護施設から来た子は、慣れ親しんだものをすべて失ったばかりです。最初の数日は来客を"
                    "控え、お散歩は短く同じコースで。誰にもじゃまされない静かな場所にベッドを用意して"
                    "あげましょう。"
                ),
                _h("4〜7日目：生活リズムをつくる"),
                _p(
                    "ごはん、お散歩、寝る時間を毎日同じにすると、次に何が起きるかがわかって安心します。"
                    "おやつを使った短いトレーニング（おすわり、まて、おいで）も始めましょう。"
                    "1回5分までが目安です。"
                ),
                _p(
                    "2週間以内にかかりつけの動物病院で健康診断を。施設からの記録も持っていきましょう。"
                ),
                _quote(
                    "ハナは4日間ソファの陰に隠れていました。今では帰宅すると玄関まで走ってきます。",
                    "ミホさん（京都の会員）",
                ),
            ],
        ),
    ),
    DemoPage(
        "dogs",
        "caring-for-a-senior-dog",
        ContentPage,
        "Caring for a senior dog",
        "Shorter walks, softer beds and a check-up twice a year: small changes for later years.",
        "senior-dog",
        [
            _h("When is a dog a senior?"),
            _p(
                "Small breeds around ten, large breeds around seven. Signs come slowly: more "
                "sleep, stiffness after rest, grey around the muzzle."
            ),
            _h("Small changes that help"),
            _p(
                "<ul><li>Two or three short walks instead of one long one.</li>"
                "<li>A thick bed away from draughts, and rugs on slippery floors.</li>"
                "<li>Food with fewer calories and more fibre.</li>"
                "<li>A vet check-up every six months.</li></ul>"
            ),
            _quote(
                "A yoga mat on the kitchen floor gave our old labrador his confidence back.",
                "Ken, member in Chiba",
            ),
        ],
        ("dog", "senior", "care"),
        ja=Translation(
            "シニア犬との暮らし",
            "お散歩は短めに、ベッドはふかふかに、健康診断は年2回。これからの時間のための小さな工夫。",
            [
                _h("何歳からシニア？"),
                _p(
                    "小型犬ならおよそ10歳、大型犬なら7歳ごろから。寝ている時間が増える、"
                    "起き上がるときにぎこちない、口のまわりが白くなるなど、変化はゆっくり現れます。"
                ),
                _h("暮らしの小さな工夫"),
                _p(
                    "<ul><li>長いお散歩1回より、短いお散歩を2〜3回に。</li>"
                    "<li>すきま風の当たらない場所に厚めのベッドを。すべりやすい床にはマットを。</li>"
                    "<li>カロリー控えめ・食物繊維多めのフードに。</li>"
                    "<li>半年に一度は健康診断を。</li></ul>"
                ),
                _quote(
                    "台所の床にヨガマットを敷いたら、老犬のラブラドールが自信を取り戻しました。",
                    "ケンさん（千葉の会員）",
                ),
            ],
        ),
    ),
    DemoPage(
        "cats",
        "moving-house-with-a-cat",
        ContentPage,
        "Moving house with a cat",
        "Cats love their territory. How to make moving day, and the weeks after, less stressful.",
        "moving-cat",
        [
            _h("Before the move"),
            _p(
                "Leave the carrier open in the living room for a few weeks with a blanket inside, "
                "so it smells like home rather than like the vet."
            ),
            _h("On the day"),
            _p(
                "Shut your cat in a quiet room with water, litter and the carrier while the boxes "
                "go out. Move them last, and open the carrier in one small room of the new home."
            ),
            _h("The first weeks"),
            _p(
                "Give your cat one room for a few days, then the rest of the house. Keep indoor "
                "cats indoors, and update the microchip address."
            ),
            _quote(
                "One room first, then the whole flat: Tama was exploring happily by day three.",
                "Yui, member in Yokohama",
            ),
        ],
        ("cat", "care"),
        ja=Translation(
            "猫との引っ越し",
            "なわばりを大切にする猫にとって、引っ越しは一大事。当日とその後の数週間を穏やかに過ごすコツ。",
            [
                _h("引っ越しの前に"),
                _p(
                    "数週間前からキャリーをリビングに開けたまま置き、中に毛布を入れておきましょう。"
                    "「病院に行く箱」ではなく「いつものにおいがする場所」になります。"
                ),
                _h("当日"),
                _p(
                    "荷物を運び出している間は、水とトイレとキャリーを置いた静かな部屋に猫を入れて"
                    "ドアを閉めておきます。猫の移動は最後に。新居では、まず小さな一部屋でキャリーを"
                    "開けてあげましょう。"
                ),
                _h("最初の数週間"),
                _p(
                    "数日は一部屋だけで過ごさせ、慣れてきたら家全体へ。室内飼いの子はそのまま室内で。"
                    "マイクロチップの登録住所の変更も忘れずに。"
                ),
                _quote(
                    "まず一部屋、それから家全体へ。タマは3日目には楽しそうに探検していました。",
                    "ユイさん（横浜の会員）",
                ),
            ],
        ),
    ),
    DemoPage(
        "cats",
        "helping-your-cat-drink-more",
        ContentPage,
        "Helping your cat drink more water",
        "Many cats drink too little. Fountains, wide bowls and wet food all help their kidneys.",
        "cat-water",
        [
            _h("Why it matters"),
            _p(
                "Cats descend from desert animals and don't feel thirst strongly. Over years, "
                "too little water strains the kidneys and bladder — a common reason for vet visits "
                "in older cats."
            ),
            _h("Easy wins"),
            _p(
                "<ul><li>Several bowls around the home, away from the litter box.</li>"
                "<li>Wide, shallow bowls: many cats dislike their whiskers touching the sides.</li>"
                "<li>A fountain: running water tempts curious cats.</li>"
                "<li>Some wet food every day.</li></ul>"
            ),
            _quote(
                "We added a fountain and Kinako drinks twice as much. The vet was delighted.",
                "Haruka, member in Sendai",
            ),
        ],
        ("cat", "care", "health"),
        ja=Translation(
            "猫にもっとお水を飲んでもらうには",
            "水をあまり飲まない猫はたくさんいます。給水器、浅めの器、ウェットフードで腎臓をいたわりましょう。",
            [
                _h("なぜ大切なの？"),
                _p(
                    "猫の祖先は砂漠で暮らしていた動物で、のどの渇きを感じにくいといわれます。"
                    "水分が足りない状態が何年も続くと腎臓や膀胱に負担がかかり、シニア猫の通院理由の"
                    "上位になっています。"
                ),
                _h("すぐにできる工夫"),
                _p(
                    "<ul><li>家のあちこちに水飲み場を。トイレの近くは避けて。</li>"
                    "<li>広くて浅い器に。ひげが器のふちに触れるのを嫌がる子が多いのです。</li>"
                    "<li>流れる水に興味を示す子には給水器を。</li>"
                    "<li>毎日少しウェットフードを。</li></ul>"
                ),
                _quote(
                    "給水器を置いたら、きなこの飲む量が倍になりました。獣医さんにもほめられました。",
                    "ハルカさん（仙台の会員）",
                ),
            ],
        ),
    ),
]

CATALOGUE_PAGES: list[DemoPage] = [SHOP, *PRODUCTS, *ARTICLES]
