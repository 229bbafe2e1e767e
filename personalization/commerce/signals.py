"""Signals of the catalogue that the apps built on it listen to (the catalogue imports none of
them): the journeys' catalogue triggers, the favourites' rollups."""

from django.dispatch import Signal

# Sent once per committed change of the catalogue (a feed call, a CSV import, an admin save),
# after the transaction commits, with `change_ids`: the ProductChange rows it wrote (creations
# and price or stock changes; receivers compare each with the product's previous row), and
# `product_ids`: the products it changed in other ways only (name, category, pet, URL, picture,
# active flag), which have no history row. Either list may be empty, not both.
products_changed = Signal()

# Sent inside the transaction that adds or removes a favourite (only when it changed anything),
# with `visitor` (the stored Visitor), `product` and `added` (True: added, False: removed). The
# event pipeline records `favourite_added` / `favourite_removed` from it.
favourite_changed = Signal()
