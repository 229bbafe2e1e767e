"""Create the bench page (and the navigation's pages) from the spec; print its path as JSON."""

import json

from django.core.management.base import BaseCommand
from django.db import transaction
from peer_shared.build import create_images, create_nav, home, load_spec, map_blocks, publish

from stock_pages.models import BenchPage


class Command(BaseCommand):
    help = "Create the stock bench page from bench/pages.py's spec."

    def add_arguments(self, parser):
        parser.add_argument("spec")

    @transaction.atomic  # one commit: hundreds of rows, set up in seconds on a busy machine
    def handle(self, *args, spec, **options):
        spec = load_spec(spec)
        home_page = home()
        images = create_images(spec)
        create_nav(spec, BenchPage, home_page)
        blocks = map_blocks(spec["default"] + spec["rest"], images, home_page)
        page = BenchPage(**spec["plain"], body=blocks)
        publish(home_page, page)
        self.stdout.write(json.dumps({"path": page.url, "cookies": []}))
