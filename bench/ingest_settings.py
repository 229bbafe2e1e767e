"""Bench-only settings for `bench/ingest.py`: production settings with the bench's URLs."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.ingest_site"
