#!/usr/bin/env python
"""The wagtail-personalisation baseline's manage.py (bench-only; see bench/peers/README.md)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wp_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
