"""`{% visitor_include "template.html" %}`: a part of the page that belongs to one visitor.

Rendered in place normally; while the page renders for the render cache it leaves a hole that
is filled per request (`cms.render_cache.holes`), so the shared body never holds it."""

from __future__ import annotations

from django import template

from cms.holes import recording_in

register = template.Library()


@register.simple_tag(takes_context=True)
def visitor_include(context, template_name: str, **values):
    """`values` (the page's own settings, such as a button's label and link: never anything
    about the visitor) are given to the template beside the request's context."""
    recording = recording_in(context)
    if recording is not None:
        payload = {"template": template_name, "values": values} if values else template_name
        return recording.placeholder("include", payload)
    template = context.template.engine.get_template(template_name)
    with context.push(**values):
        return template.render(context)
