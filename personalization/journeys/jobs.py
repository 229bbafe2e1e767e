"""Jobs of journeys. Each takes plain data and calls the engine or the delivery."""

from __future__ import annotations

from personalization.journeys.catalogue import journeys_on_catalogue
from personalization.journeys.delivery import webhook_deliver
from personalization.journeys.engine import journeys_evaluate


def evaluate_journeys() -> dict[str, int]:
    """Run the journey steps that are due (periodic, the `default` queue)."""
    return journeys_evaluate()


def deliver_webhook(message_id: int) -> str:
    """One delivery attempt of a journey webhook (the `default` queue)."""
    return webhook_deliver(message_id=message_id)


def catalogue_changed(change_ids: list[int]) -> int:
    """Enter members into the catalogue journeys for one batch of product changes (the
    `default` queue; one job per `products_changed`)."""
    return journeys_on_catalogue(change_ids=change_ids)
