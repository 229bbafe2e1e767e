"""Local development: `make run`. DEBUG stays off unless DJANGO_DEBUG=1 asks for it."""

from .base import *  # noqa: F403
