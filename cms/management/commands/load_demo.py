"""`manage.py load_demo`: build the demo member site. Safe to run again: it adds only what is
missing and never overwrites what editors changed."""

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from cms import demo
from cms.demo.products import ensure_products
from cms.demo.shopping import ensure_shopping_history
from personalization.journeys.demo import ensure_demo_journeys


class Command(BaseCommand):
    help = "Create (or complete) the Pawprint Club demo site, its members and the admin user."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar."
        )
        parser.add_argument(
            "--languages",
            help="Comma-separated languages to build (default: DEMO_LANGUAGES, en,ja): the "
            "English site is always built, ja adds its Japanese translation under /ja/.",
        )

    def handle(self, *args, no_progress: bool = False, languages: str | None = None, **options):
        languages = languages.split(",") if languages else settings.DEMO_LANGUAGES
        steps = [("home page", demo.ensure_home)]
        steps += [("products", ensure_products)]
        steps += [(f"page /{spec.slug}/", spec) for spec in demo.DEMO_PAGES]
        steps += [("members-only area", demo.ensure_members_only)]
        steps += [("hero link", demo.ensure_hero_link)]
        steps += [("segments", lambda home: demo.ensure_segments())]
        steps += [("personalized home", demo.ensure_personalized_home)]
        steps += [("personalized dogs section", demo.ensure_personalized_dogs_section)]
        steps += [("home hero experiment", demo.ensure_demo_experiment)]
        if "ja" in languages:
            steps += [("Japanese site", demo.ensure_japanese_site)]
        steps += [(f"member {spec['email']}", spec) for spec in demo.DEMO_MEMBERS]
        steps += [("admin user", None)]
        if settings.DEMO_SHOPPING_HISTORY:
            steps += [("shop history", ensure_shopping_history)]
        steps += [("journeys", lambda home: ensure_demo_journeys())]
        home = None
        admin_created = False
        bar = tqdm(steps, desc="Demo site", unit="step", disable=no_progress, file=self.stderr)
        for label, step in bar:
            bar.set_postfix_str(label)
            if step is demo.ensure_home:
                home = demo.ensure_home()
            elif isinstance(step, demo.DemoPage):
                demo.ensure_page(home, step)
            elif isinstance(step, dict):
                demo.ensure_member(step)
            elif step is None:
                _, admin_created = demo.ensure_admin()
            else:
                step(home)
        bar.close()
        self.stdout.write(self.style.SUCCESS("Demo site ready."))
        password = settings.DEMO_ADMIN_PASSWORD if admin_created else "(unchanged)"
        self.stdout.write(
            f"  Admin:   /admin/  user {settings.DEMO_ADMIN_USERNAME}  password {password}"
        )
        self.stdout.write(
            f"  Members: {', '.join(m['email'] for m in demo.DEMO_MEMBERS)}"
            f"  password {demo.DEMO_MEMBER_PASSWORD}"
        )
