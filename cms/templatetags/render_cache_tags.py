"""`{% visitor_include "template.html" %}`: a part of the page that belongs to one visitor.

Rendered in place normally; while the page renders for the render cache it leaves a hole that
is filled per request (`cms.render_cache.holes`), so the shared body never holds it."""

from __future__ import annotations

from django import template

from cms.holes import recording_in

register = template.Library()


@register.simple_tag(takes_context=True)
def visitor_include(context, template_name: str):
    recording = recording_in(context)
    if recording is not None:
        return recording.placeholder("include", template_name)
    return context.template.engine.get_template(template_name).render(context)
