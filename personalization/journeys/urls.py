"""Site URLs of journeys: the tracked links of their emails (outside the language prefixes: the
path a link opens carries its own)."""

from django.urls import path

from personalization.journeys.links import link_open

urlpatterns = [
    path("<str:token>/", link_open, name="journey_link"),
]
