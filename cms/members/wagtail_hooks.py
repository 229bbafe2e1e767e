"""Admin for member profiles: staff see and set what members declared, and their tier."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.admin.viewsets.model import ModelViewSet

from cms.members.models import MemberProfile


class MemberProfileViewSet(ModelViewSet):
    """Members' profiles in the admin (the tier is set here by staff)."""

    model = MemberProfile
    icon = "user"
    menu_label = _("Members")
    menu_order = 250
    add_to_admin_menu = True
    list_display = ["user", "region", "gender", "tier", "pet_type", "updated_at"]
    list_filter = ["tier", "region", "gender", "pet_type"]
    search_fields = ["user__email", "user__first_name"]
    panels = [
        FieldPanel("user", read_only=True),
        FieldPanel("tier"),
        FieldPanel("birth_date"),
        FieldPanel("gender"),
        FieldPanel("region"),
        FieldPanel("occupation"),
        FieldPanel("pet_type"),
    ]
    inspect_view_enabled = True


@hooks.register("register_admin_viewset")
def register_member_profiles():
    return MemberProfileViewSet("member_profiles")
