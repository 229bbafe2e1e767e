"""Signal receivers of the site app: they only hand work to jobs."""

from django.db.models.signals import post_save
from django.dispatch import receiver
from wagtail.images import get_image_model

from cms.jobs import warm_renditions
from config.jobs import enqueue


@receiver(post_save, sender=get_image_model())
def image_saved(sender, instance, created: bool, **kwargs) -> None:
    """A new or replaced image gets its renditions made in the background."""
    if kwargs.get("raw"):
        return
    enqueue("default", warm_renditions, instance.pk)
