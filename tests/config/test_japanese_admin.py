"""Japanese is a first-class language of the admin (issue 18): an editor who picks 日本語 in
their Wagtail account sees no project label in English. Each project admin view is rendered in
Japanese and its visible text is searched for the catalogue's msgids (locale/ja): a msgid still
there is a message that was not translated (or a translation that is not compiled). The
catalogue itself has no untranslated or fuzzy entry, and `make`'s compile step builds the .mo."""

from __future__ import annotations

import gettext as gettext_module
import html as html_lib
import json
import re
import shutil
import subprocess
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
import wagtail
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from wagtail.models import Page
from wagtail.users.models import UserProfile

from experiments.models import Experiment, ExperimentStatus, Goal, Layer, Variant
from personalization.commerce.models import Product
from personalization.journeys.models import EmailTemplate, Journey, JourneyStep
from personalization.models import Segment
from tests.experiments.holdout_helpers import make_holdout

pytestmark = pytest.mark.django_db

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ja" / "LC_MESSAGES" / "django.po"
SHORTEST = 4  # shorter msgids ("OK", "No", "%s") are found inside too many other words


@cache
def catalogue() -> polib.POFile:
    return polib.pofile(str(CATALOGUE))


@cache
def checked_msgids() -> list[tuple[str, re.Pattern]]:
    """The project's messages worth looking for, each with the pattern that finds it in a text
    node: its literal text with any value where a placeholder was (the text between tags
    separately: each is a node of its own). A message of one or two words ("Size", "Save") must
    be the whole node, so a segment called "Mobile visitors" or Wagtail's own "Save changes" is
    not taken for the "visitors" or "Save" of a field."""
    found = {}
    for entry in catalogue():
        if entry.obsolete:
            continue
        for msgid, msgstr in _pairs(entry):
            if msgid == msgstr:
                continue
            for chunk in re.split(r"<[^>]+>", msgid):
                if " ".join(chunk.split()) in upstream_msgids() or chunk.strip() in msgstr:
                    continue  # Wagtail's or Django's own words, or kept as is ("make run")
                pattern = _pattern(chunk)
                if pattern is not None:
                    found.setdefault(chunk, pattern)
    return sorted(found.items(), key=lambda item: len(item[0]), reverse=True)


def _pattern(text: str) -> re.Pattern | None:
    pieces = [re.sub(r"\s+", " ", piece) for piece in PLACEHOLDER.split(text.strip())]
    literal = " ".join(piece for piece in pieces if piece)
    if len(literal) < SHORTEST or not re.search(r"[A-Za-z]{3}", literal):
        return None
    if len(pieces) > 1 and len(literal.split()) < 2:
        return None  # "%(count)s members", "%(low)s and %(high)s": one word, found in any prose
    words = [r"\s+".join(map(re.escape, piece.split(" "))) for piece in pieces]
    body = ".{1,40}?".join(words)
    if len(literal.split()) < 3:
        return re.compile(rf"^[\s(]*{body}[\s:.…)]*$")
    return re.compile(rf"(?<![\w-]){body}(?![\w-])")


@cache
def upstream_msgids() -> frozenset[str]:
    """The messages of Wagtail's and Django's own catalogues: when the project says the same
    words ("Actions", "Home"), a page showing them in English may be showing Wagtail's."""
    site_packages = Path(wagtail.__file__).parent.parent
    found = set()
    for package in ("wagtail", "django", "modelcluster", "taggit"):
        for path in (site_packages / package).glob("**/locale/ja/LC_MESSAGES/django.po"):
            found.update(" ".join(entry.msgid.split()) for entry in polib.pofile(str(path)))
    return frozenset(found)


PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%\(\w+\)\.\df|%[sdif]|\{\w*\}")


def _pairs(entry: polib.POEntry):
    if entry.msgid_plural:
        yield entry.msgid, entry.msgstr_plural.get(0, "")
        yield entry.msgid_plural, entry.msgstr_plural.get(0, "")
    else:
        yield entry.msgid, entry.msgstr


# Scripts and styles are not seen; code and pre show identifiers (`traits.pet`, `make run`).
HIDDEN_TAGS = {"script", "style", "code", "pre"}


class VisibleText(HTMLParser):
    """The text a person sees or hears: text outside scripts, styles and code, the attributes read
    out or shown (title, placeholder, aria-label, alt, button values), and the labels and help
    texts inside the JSON of Wagtail's StreamField and other widget definitions."""

    SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-w-tooltip-content-value"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN_TAGS:
            self.hidden_depth += 1
            return
        for name, value in attrs:
            if not value:
                continue
            if name in self.SHOWN_ATTRIBUTES or (name == "value" and tag in {"button", "input"}):
                self.parts.append(value)
            elif name.startswith("data-") and value[:1] in "[{":
                self.parts.extend(_json_labels(value))

    def handle_endtag(self, tag):
        if tag in HIDDEN_TAGS and self.hidden_depth:
            self.hidden_depth -= 1

    def handle_data(self, data):
        if not self.hidden_depth and data.strip():
            self.parts.append(data)


def _json_labels(value: str) -> list[str]:
    try:
        data = json.loads(value)
    except ValueError:
        return []
    labels = []

    def walk(node):
        if isinstance(node, dict):
            for key, item in node.items():
                if key in {"label", "help_text", "helpText", "title", "heading"} and isinstance(
                    item, str
                ):
                    labels.append(html_lib.unescape(re.sub(r"<[^>]+>", " ", item)))
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    return labels


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return [" ".join(part.split()) for part in parser.parts]


def untranslated(html: str) -> list[str]:
    """The catalogue's msgids found in the page's visible text, each once (what editors wrote,
    a page title "Members" or a goal "Sign-up", is content, not a message)."""
    content = content_texts()
    nodes = [
        node
        for node in visible_text(html)
        if re.search(r"[A-Za-z]{3}", node) and node.strip("() ") not in content
    ]
    return [msgid for msgid, pattern in checked_msgids() if any(map(pattern.search, nodes))]


def content_texts() -> set[str]:
    """What editors and the demo wrote (names, titles, descriptions), and stored status values."""
    texts = {status.value for status in ExperimentStatus}
    for model, fields in (
        (Segment, ["name", "description"]),
        (Page, ["title"]),
        (Experiment, ["name", "hypothesis"]),
        (Goal, ["name"]),
        (Variant, ["name"]),
        (Journey, ["name", "description"]),
        (EmailTemplate, ["name", "subject"]),
        (JourneyStep, ["message_title", "message_text"]),
        (Layer, ["name"]),
    ):
        for row in model.objects.values_list(*fields):
            texts.update(" ".join(value.split()) for value in row if value)
    return texts


# THE VIEWS
# ------------------------------------------------------------------------------


@pytest.fixture
def japanese_editor(client):
    user = get_user_model().objects.get(username="admin")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "ja"
    profile.save()
    client.force_login(user)
    return client


def project_admin_views() -> dict[str, str]:
    """Each project admin view an editor opens, by name: lists, add and edit forms, reports
    (with a running holdout and a layer, which the demo has none of)."""
    segment = Segment.objects.get(slug="dog-people")
    experiment = Experiment.objects.get(key="home-hero")
    journey = Journey.objects.get(name="Cart abandonment")
    page = Page.objects.get(slug="pawprint-club")
    views = {
        "segments": "/admin/personalization/segments/",
        "segment add": "/admin/personalization/segments/add/",
        "segment edit": f"/admin/personalization/segments/edit/{segment.pk}/",
        "segment size": f"/admin/personalization/segments/size/{segment.pk}/",
        "saved groups": "/admin/personalization/saved-groups/",
        "saved group add": "/admin/personalization/saved-groups/add/",
        "explain": "/admin/personalization/explain/",
        "attributes": "/admin/personalization/attributes/",
        "experiments": "/admin/experiments/",
        "experiment add": "/admin/experiments/add/",
        "experiment edit": f"/admin/experiments/edit/{experiment.pk}/",
        "experiment report": f"/admin/experiments/report/{experiment.pk}/",
        "holdouts": "/admin/personalization/holdouts/",
        "holdout add": reverse("experiments_holdout:add"),
        "holdouts report": "/admin/personalization/holdouts-report/",
        "layers": "/admin/experiments/layers/",
        "layer add": "/admin/experiments/layers/add/",
        "journeys": "/admin/personalization/journeys/",
        "journey add": "/admin/personalization/journeys/add/",
        "journey edit": f"/admin/personalization/journeys/edit/{journey.pk}/",
        "journey report": f"/admin/personalization/journeys/report/{journey.pk}/",
        "email templates": "/admin/personalization/email-templates/",
        "email template add": "/admin/personalization/email-templates/add/",
        "background jobs": "/admin/background-jobs/",
        "dashboard": "/admin/",
        "page edit": f"/admin/pages/{page.pk}/edit/",
        "page listing": f"/admin/pages/{page.pk}/",
    }
    holdout = make_holdout(segment, 0.05)
    views["holdout edit"] = reverse("experiments_holdout:edit", args=[holdout.pk])
    layer = Layer.objects.create(key="hero-tests", name="Hero tests")
    views["layer edit"] = f"/admin/experiments/layers/edit/{layer.pk}/"
    product = Product.objects.create(sku="DOG-1", name="ドッグフード", category="dog-food",
                                     price=1280, stock=5)  # fmt: skip
    views["products"] = "/admin/personalization/products/"
    views["product add"] = "/admin/personalization/products/add/"
    views["product edit"] = f"/admin/personalization/products/edit/{product.pk}/"
    return views


@pytest.mark.parametrize(
    "view",
    [
        "segments",
        "segment add",
        "segment edit",
        "segment size",
        "saved groups",
        "saved group add",
        "explain",
        "attributes",
        "experiments",
        "experiment add",
        "experiment edit",
        "experiment report",
        "holdouts",
        "holdout add",
        "holdout edit",
        "holdouts report",
        "layers",
        "layer add",
        "layer edit",
        "journeys",
        "journey add",
        "journey edit",
        "journey report",
        "email templates",
        "email template add",
        "products",
        "product add",
        "product edit",
        "background jobs",
        "dashboard",
        "page edit",
        "page listing",
    ],
)
def test_each_project_admin_view_is_in_japanese(japanese_editor, view):
    url = project_admin_views().get(view)
    assert url, f"the demo has nothing to open for {view!r}"
    response = japanese_editor.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'<html[^>]*\blang="ja"', html), "the admin is not in Japanese"
    assert untranslated(html) == [], f"English project messages on {view} ({url})"


def test_explaining_a_member_is_in_japanese(japanese_editor):
    """The explain page with a visitor's segments and rules, not only its search form."""
    html = japanese_editor.get("/admin/personalization/explain/?q=demo").content.decode()
    assert untranslated(html) == []


def test_translating_a_page_is_in_japanese(japanese_editor):
    """Wagtail's translation screens (simple_translation, locales) ship no Japanese; the
    project's catalogue gives them theirs (cms/wagtail_messages.py)."""
    section = Page.objects.get(slug="dogs")
    url = reverse("simple_translation:submit_page_translation", args=[section.pk])
    html = japanese_editor.get(url).content.decode()
    assert "サブツリーも含める" in html and "ページを翻訳" in html
    assert "Include subtree" not in html and ">Submit<" not in html
    locales = japanese_editor.get(reverse("wagtaillocales:index")).content.decode()
    assert "ロケール" in locales and "Add a locale" not in locales and "Locales" not in locales


def test_the_check_finds_an_english_message(client):
    """The same page in English shows the catalogue's msgids: the check can fail."""
    client.force_login(get_user_model().objects.get(username="admin"))
    html = client.get("/admin/personalization/segments/add/").content.decode()
    assert {"Who is in this segment", "Advanced: JSON condition"} <= set(untranslated(html))


def test_the_catalogue_is_complete():
    """Every msgid has a Japanese msgstr; none is fuzzy or obsolete; placeholders are kept."""
    po = catalogue()
    assert po.metadata.get("Language") == "ja"
    assert po.metadata.get("Plural-Forms") == "nplurals=1; plural=0;"
    problems = []
    for entry in po:
        if entry.obsolete or entry.fuzzy:
            problems.append(("obsolete or fuzzy", entry.msgid))
            continue
        for msgid, msgstr in _pairs(entry):
            if not msgstr:
                problems.append(("untranslated", msgid))
        msgstr = entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr
        if _named(entry.msgid_plural or entry.msgid) != _named(msgstr):
            problems.append(("placeholders", entry.msgid))
    assert problems == []
    assert len(po) > 1000


def _named(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)", text))


def test_make_compiles_the_catalogue(tmp_path):
    """`make messages` (a step of `make install`, so of `make run` and `make test`) builds the
    .mo from the .po: here from a copy of the catalogue in a scratch checkout."""
    if not shutil.which("msgfmt"):
        pytest.fail("msgfmt (Debian's gettext) is missing; .ci/run installs it")
    root = Path(settings.BASE_DIR)
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(root / name, tmp_path / name)  # keeps the mtime: the venv is up to date
    (tmp_path / ".venv").symlink_to(root / ".venv")
    (tmp_path / "manage.py").symlink_to(root / "manage.py")
    target = tmp_path / "locale" / "ja" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(CATALOGUE, target / "django.po")
    subprocess.run(["make", "-s", "messages"], cwd=tmp_path, check=True, timeout=120)
    with open(target / "django.mo", "rb") as mo:
        translations = gettext_module.GNUTranslations(mo)
    assert translations.gettext("Who is in this segment") == "このセグメントに該当する人"
    assert translations.ngettext("%(count)d day", "%(count)d days", 2) == "%(count)d 日"


def _wagtail_js_msgids(language: str) -> dict[str, bool]:
    """Every msgid of Wagtail's JavaScript catalogues (djangojs) → translated in `language`."""
    root = Path(wagtail.__file__).parent
    found: dict[str, bool] = {}
    for path in root.glob(f"**/locale/{language}/LC_MESSAGES/djangojs.po"):
        for entry in polib.pofile(str(path)):
            found[entry.msgid] = found.get(entry.msgid, False) or entry.translated()
    return found


def test_the_admins_javascript_strings_are_in_japanese_too(japanese_editor):
    """Wagtail's own ja JavaScript catalogue leaves ~35 strings in English ("Collapse all",
    "Insert a block", the autosave notices); locale/ja/djangojs.po fills them, and the admin's
    catalogue served to a Japanese editor has every one of Wagtail's JavaScript msgids."""
    response = japanese_editor.get(reverse("wagtailadmin_javascript_catalog"))
    assert response.status_code == 200
    body = response.content.decode()
    match = re.search(r"const newcatalog = (\{.*?\});\n", body, re.S)
    assert match, "the catalogue's JavaScript changed shape"
    served = json.loads(match.group(1))
    wanted = _wagtail_js_msgids("en")
    missing = sorted(msgid for msgid in wanted if msgid not in served)
    assert missing == []
    assert served["Collapse all"] == "すべて折りたたむ"
    assert served["Insert a block"] == "ブロックを挿入"
