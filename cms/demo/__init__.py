"""The demo member site: a pet-goods shop's club. Each builder is idempotent: it finds what a
previous run made (by slug, title or email) and leaves it as the editors may have changed it.

One module per part: `pages` (the page tree), `images` (the pictures), `personalized` (segments
and personalized blocks), `experiments` (the home hero test), `japanese` (the Japanese site) and
`members` (members and the admin user). `manage.py load_demo` calls them through the names this
package exports."""

from cms.demo.experiments import HERO_VARIANT, ensure_demo_experiment
from cms.demo.images import PICTURES, ensure_image
from cms.demo.japanese import ensure_japanese_site
from cms.demo.members import DEMO_MEMBER_PASSWORD, DEMO_MEMBERS, ensure_admin, ensure_member
from cms.demo.pages import (
    DEMO_PAGES,
    HOME_BODY,
    DemoPage,
    ensure_hero_link,
    ensure_home,
    ensure_members_only,
    ensure_page,
)
from cms.demo.personalized import (
    DEFAULT_HOME_MESSAGE,
    DEMO_SEGMENTS,
    HOME_VARIANTS,
    OVERSEAS_CONDITION,
    ensure_personalized_dogs_section,
    ensure_personalized_home,
    ensure_segments,
)
from cms.demo.root import ensure_wagtail_root

__all__ = [
    "DEFAULT_HOME_MESSAGE",
    "DEMO_MEMBERS",
    "DEMO_MEMBER_PASSWORD",
    "DEMO_PAGES",
    "DEMO_SEGMENTS",
    "HERO_VARIANT",
    "HOME_BODY",
    "HOME_VARIANTS",
    "OVERSEAS_CONDITION",
    "PICTURES",
    "DemoPage",
    "ensure_admin",
    "ensure_demo_experiment",
    "ensure_hero_link",
    "ensure_home",
    "ensure_image",
    "ensure_japanese_site",
    "ensure_member",
    "ensure_members_only",
    "ensure_page",
    "ensure_personalized_dogs_section",
    "ensure_personalized_home",
    "ensure_segments",
    "ensure_wagtail_root",
]
