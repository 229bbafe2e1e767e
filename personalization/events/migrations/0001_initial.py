"""events: the models moved here from `personalization` (0007 there), rows untouched."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from personalization.migration_support import content_types_move

APP_LABEL = 'events'
MODELS = ('event',)



class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('personalization', '0007_models_move_to_their_apps'),
        migrations.swappable_dependency(settings.WAGTAIL_PAGE_MODEL),
    ]

    operations = [
        # The tables exist (renamed by personalization 0007): the state takes them over.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Event',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('type', models.CharField(choices=[('page_view', 'Page view'), ('add_to_cart', 'Add to cart'), ('remove_from_cart', 'Remove from cart'), ('checkout', 'Checkout'), ('purchase', 'Purchase'), ('sign_up', 'Sign-up'), ('goal', 'Custom goal'), ('offer_impression', 'Offer shown')], max_length=32)),
                        ('name', models.CharField(blank=True, help_text='Goal or offer name.', max_length=100)),
                        ('properties', models.JSONField(blank=True, default=dict)),
                        ('occurred_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('received_at', models.DateTimeField(auto_now_add=True)),
                        ('idempotency_key', models.CharField(blank=True, max_length=64, null=True)),
                        ('page', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.WAGTAIL_PAGE_MODEL)),
                        ('visitor', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='personalization.visitor')),
                    ],
                    options={
                        'indexes': [models.Index(fields=['visitor', 'occurred_at'], name='personaliza_visitor_bdb85e_idx'), models.Index(fields=['type', 'occurred_at'], name='personaliza_type_396964_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('idempotency_key__isnull', False)), fields=('visitor', 'idempotency_key'), name='unique_event_idempotency_key')],
                    },
                ),
            ],
        ),
        migrations.RenameIndex(model_name='event', new_name='events_even_visitor_91aa0c_idx', old_name='personaliza_visitor_bdb85e_idx'),
        migrations.RenameIndex(model_name='event', new_name='events_even_type_a430ba_idx', old_name='personaliza_type_396964_idx'),
        content_types_move(APP_LABEL, MODELS),
    ]
