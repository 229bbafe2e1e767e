"""What the two bench-only baseline projects share: the page's blocks and templates (the same
kinds and markup as the project's content page, without anything personalized), the settings of
a stock Wagtail project on PostgreSQL and Redis, and the builder that recreates the bench page
from the spec bench/pages.py writes. Bench-only: nothing in the project imports it."""
