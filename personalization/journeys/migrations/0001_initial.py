"""journeys: the models moved here from `personalization` (0007 there), rows untouched."""

import datetime
import django.db.models.deletion
import django.utils.timezone
import modelcluster.fields
import personalization.journeys.models
from django.db import migrations, models

from personalization.migration_support import content_types_move

APP_LABEL = 'journeys'
MODELS = ('emailtemplate', 'journey', 'journeystep', 'journeyentry', 'journeymessage', 'messagingsettings')



class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('personalization', '0007_models_move_to_their_apps'),
    ]

    operations = [
        # The tables exist (renamed by personalization 0007): the state takes them over.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='EmailTemplate',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True)),
                        ('subject', models.CharField(help_text="E.g. “{{ name|default:'Hello' }}, your cart is waiting”.", max_length=200)),
                        ('body_text', models.TextField(help_text='Variables: {{ name }}, {{ email }}, {{ cart.items }}, {{ cart.count }}, {{ cart.value }}, {{ purchases.count }}, {{ site_name }}, {{ site_url }}, {{ unsubscribe_url }}. The unsubscribe link is added when the body does not use it.', verbose_name='plain-text body')),
                        ('body_html', models.TextField(blank=True, help_text='Optional; same variables, values are escaped.', verbose_name='HTML body')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                ),
                migrations.CreateModel(
                    name='MessagingSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('max_per_day', models.PositiveSmallIntegerField(default=1, help_text='Across all journeys; 0 = no limit.', verbose_name='messages per visitor per day')),
                        ('max_per_week', models.PositiveSmallIntegerField(default=3, help_text='Monday to Sunday; 0 = no limit.', verbose_name='messages per visitor per week')),
                        ('quiet_hours_start', models.TimeField(blank=True, default=datetime.time(21, 0), help_text='No message goes out from this time … (site time zone; blank = none)', null=True)),
                        ('quiet_hours_end', models.TimeField(blank=True, default=datetime.time(8, 0), help_text='… until this time.', null=True)),
                    ],
                    options={
                        'verbose_name': 'journey messaging',
                    },
                ),
                migrations.CreateModel(
                    name='Journey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, unique=True)),
                        ('description', models.TextField(blank=True)),
                        ('status', models.CharField(choices=[('draft', 'Draft'), ('active', 'Active'), ('paused', 'Paused')], default='draft', max_length=16)),
                        ('trigger', models.CharField(choices=[('event', 'An event happens'), ('event_without', 'An event happens and another does not follow within the window'), ('no_visit', 'A member has not visited for the window'), ('after_first_purchase', 'The window has passed since a first purchase')], default='event_without', max_length=24)),
                        ('trigger_event', models.CharField(blank=True, choices=[('page_view', 'Page view'), ('add_to_cart', 'Add to cart'), ('remove_from_cart', 'Remove from cart'), ('checkout', 'Checkout'), ('purchase', 'Purchase'), ('sign_up', 'Sign-up'), ('goal', 'Custom goal'), ('offer_impression', 'Offer shown')], max_length=32, verbose_name='trigger event')),
                        ('trigger_name', models.CharField(blank=True, help_text='Only events with this name (goal or offer).', max_length=100)),
                        ('follow_up_event', models.CharField(blank=True, choices=[('page_view', 'Page view'), ('add_to_cart', 'Add to cart'), ('remove_from_cart', 'Remove from cart'), ('checkout', 'Checkout'), ('purchase', 'Purchase'), ('sign_up', 'Sign-up'), ('goal', 'Custom goal'), ('offer_impression', 'Offer shown')], help_text='The event that cancels the journey when it follows within the window.', max_length=32, verbose_name='unless followed by')),
                        ('window_amount', models.IntegerField(default=0, help_text='How long to wait for the follow-up, or the dormancy.', verbose_name='window')),
                        ('window_unit', models.CharField(choices=[('minutes', 'minutes'), ('hours', 'hours'), ('days', 'days')], default='hours', max_length=8)),
                        ('goal_event', models.CharField(choices=[('page_view', 'Page view'), ('add_to_cart', 'Add to cart'), ('remove_from_cart', 'Remove from cart'), ('checkout', 'Checkout'), ('purchase', 'Purchase'), ('sign_up', 'Sign-up'), ('goal', 'Custom goal'), ('offer_impression', 'Offer shown')], default='purchase', max_length=32, verbose_name='goal')),
                        ('attribution_days', models.IntegerField(default=7, help_text='A goal reached this many days after a message counts as converted.')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('segment', models.ForeignKey(blank=True, help_text='Only visitors in this segment when a step is due.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='personalization.segment')),
                    ],
                    options={
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='JourneyEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('trigger_key', models.CharField(max_length=80)),
                        ('trigger_event_id', models.BigIntegerField(blank=True, null=True)),
                        ('trigger_context', models.JSONField(blank=True, default=dict)),
                        ('triggered_at', models.DateTimeField()),
                        ('entered_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('status', models.CharField(choices=[('waiting', 'Waiting for the next step'), ('done', 'All steps run'), ('cancelled', 'Cancelled by the follow-up event'), ('exited', 'Left the segment'), ('suppressed', 'Stopped: no marketing consent')], default='waiting', max_length=16)),
                        ('next_step', models.PositiveSmallIntegerField(default=0)),
                        ('step_base_at', models.DateTimeField(help_text='When the wait for the next step began.')),
                        ('next_run_at', models.DateTimeField(blank=True, null=True)),
                        ('first_messaged_at', models.DateTimeField(blank=True, null=True)),
                        ('converted_at', models.DateTimeField(blank=True, null=True)),
                        ('ended_at', models.DateTimeField(blank=True, null=True)),
                        ('journey', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='entries', to='journeys.journey')),
                        ('visitor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='personalization.visitor')),
                    ],
                    options={
                        'verbose_name_plural': 'journey entries',
                    },
                ),
                migrations.CreateModel(
                    name='JourneyStep',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sort_order', models.IntegerField(blank=True, editable=False, null=True)),
                        ('delay_amount', models.IntegerField(default=0, help_text='After the trigger (first step) or the previous step.', verbose_name='delay')),
                        ('delay_unit', models.CharField(choices=[('minutes', 'minutes'), ('hours', 'hours'), ('days', 'days')], default='hours', max_length=8)),
                        ('action', models.CharField(choices=[('email', 'Send an email'), ('on_site', 'Show an on-site message'), ('webhook', 'POST a signed webhook')], default='email', max_length=16)),
                        ('message_title', models.CharField(blank=True, max_length=120)),
                        ('message_text', models.TextField(blank=True, help_text='On-site message; {{ name }} and the email variables work here too.')),
                        ('message_link', models.CharField(blank=True, help_text='E.g. /shop/cart/', max_length=500)),
                        ('webhook_url', models.CharField(blank=True, max_length=500, validators=[personalization.journeys.models.validate_webhook_url])),
                        ('webhook_secret', models.CharField(default=personalization.journeys.models.new_webhook_secret, help_text='Signs each POST: X-Pawprint-Signature: t=<unix time>,v1=<HMAC-SHA256 hex of “t.body”>.', max_length=64)),
                        ('email_template', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='journeys.emailtemplate')),
                        ('journey', modelcluster.fields.ParentalKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='journeys.journey')),
                    ],
                    options={
                        'ordering': ['sort_order'],
                        'abstract': False,
                    },
                ),
                migrations.CreateModel(
                    name='JourneyMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('channel', models.CharField(choices=[('email', 'Send an email'), ('on_site', 'Show an on-site message'), ('webhook', 'POST a signed webhook')], max_length=16)),
                        ('status', models.CharField(choices=[('sent', 'Sent'), ('pending', 'Delivering (retrying)'), ('failed', 'Failed'), ('suppressed_cap', 'Suppressed by the frequency cap'), ('suppressed_consent', 'Suppressed: no marketing consent'), ('skipped', 'Skipped: nowhere to send')], max_length=24)),
                        ('detail', models.CharField(blank=True, max_length=300)),
                        ('recipient', models.CharField(blank=True, max_length=254)),
                        ('subject', models.CharField(blank=True, max_length=300)),
                        ('body', models.TextField(blank=True, help_text='On-site message text, or the webhook body.')),
                        ('link', models.CharField(blank=True, max_length=500)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('shown_at', models.DateTimeField(blank=True, null=True)),
                        ('entry', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='journeys.journeyentry')),
                        ('journey', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='journeys.journey')),
                        ('visitor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='personalization.visitor')),
                        ('step', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='journeys.journeystep')),
                    ],
                ),
                migrations.AddIndex(
                    model_name='journeyentry',
                    index=models.Index(fields=['status', 'next_run_at'], name='personaliza_status_db3e95_idx'),
                ),
                migrations.AddIndex(
                    model_name='journeyentry',
                    index=models.Index(fields=['visitor', 'status'], name='personaliza_visitor_3d1efd_idx'),
                ),
                migrations.AddConstraint(
                    model_name='journeyentry',
                    constraint=models.UniqueConstraint(fields=('journey', 'trigger_key'), name='unique_journey_entry_trigger'),
                ),
                migrations.AddIndex(
                    model_name='journeymessage',
                    index=models.Index(fields=['visitor', 'status', 'sent_at'], name='personaliza_visitor_62eeb3_idx'),
                ),
                migrations.AddIndex(
                    model_name='journeymessage',
                    index=models.Index(fields=['status', 'next_attempt_at'], name='personaliza_status_0257d5_idx'),
                ),
                migrations.AddConstraint(
                    model_name='journeymessage',
                    constraint=models.UniqueConstraint(fields=('entry', 'step'), name='unique_message_per_step'),
                ),
            ],
        ),
        migrations.RenameIndex(model_name='journeyentry', new_name='journeys_jo_status_b23e00_idx', old_name='personaliza_status_db3e95_idx'),
        migrations.RenameIndex(model_name='journeyentry', new_name='journeys_jo_visitor_d820dc_idx', old_name='personaliza_visitor_3d1efd_idx'),
        migrations.RenameIndex(model_name='journeymessage', new_name='journeys_jo_visitor_221ae6_idx', old_name='personaliza_visitor_62eeb3_idx'),
        migrations.RenameIndex(model_name='journeymessage', new_name='journeys_jo_status_b08f8a_idx', old_name='personaliza_status_0257d5_idx'),
        content_types_move(APP_LABEL, MODELS),
    ]
