"""The segment-keyed render cache: personalized pages served at the cost of a cached one.

A page's HTML (and the API's JSON of it) depends on the visitor only through

- which of the segments *used on that page* they match, the variant of each experiment on the
  page, their holdout arms, their consent state and the language — the **personalization key**
  (`keys`), built from the request's resolution without rendering; and
- a few per-visitor parts — the greeting's name, the profile form, capped offers, journey
  messages, recommendations blocks, the CSRF token, the header's log-in state, flash
  messages — the **holes** (`holes`), rendered as placeholders into the shared body and filled
  per request after the cache hit.

So one rendered body per (page, revision, key) serves every visitor with that key (`store`),
and no shared entry ever holds one visitor's data. `middleware.RenderCacheMiddleware` serves
the site from it in front of Wagtail's router; entries are invalidated by a content
generation (publish, unpublish, move, delete, view restrictions, images) and by the segment and
experiment versions, which are part of every key, plus a TTL.
"""
