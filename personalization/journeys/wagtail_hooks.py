"""Journeys and email templates in the admin's Personalization menu."""

from __future__ import annotations

from wagtail import hooks

from personalization.journeys.viewsets import EmailTemplateViewSet, JourneyViewSet


@hooks.register("register_personalization_viewsets")
def journeys_in_the_personalization_menu():
    return [JourneyViewSet, EmailTemplateViewSet]
