"""Members, events and journeys move to their own apps (cms.members, personalization.events,
personalization.journeys) with every row: the state forgets the models here, the database only
renames their tables (`members_*`, `events_*`, `journeys_*`), and each new app's first migration
takes the models over in state alone and moves their content types (keeping ids, so
permissions, log entries and revisions still point at them)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('personalization', '0006_erased_visitor'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable(name='memberprofile', table='members_memberprofile'),
                migrations.AlterModelTable(name='event', table='events_event'),
                migrations.AlterModelTable(name='emailtemplate', table='journeys_emailtemplate'),
                migrations.AlterModelTable(name='journey', table='journeys_journey'),
                migrations.AlterModelTable(name='journeystep', table='journeys_journeystep'),
                migrations.AlterModelTable(name='journeyentry', table='journeys_journeyentry'),
                migrations.AlterModelTable(name='journeymessage', table='journeys_journeymessage'),
                migrations.AlterModelTable(name='messagingsettings', table='journeys_messagingsettings'),
            ],
            state_operations=[
                migrations.RemoveField(
                    model_name='journeystep',
                    name='email_template',
                ),
                migrations.RemoveField(
                    model_name='event',
                    name='page',
                ),
                migrations.RemoveField(
                    model_name='event',
                    name='visitor',
                ),
                migrations.RemoveField(
                    model_name='journey',
                    name='segment',
                ),
                migrations.RemoveField(
                    model_name='journeystep',
                    name='journey',
                ),
                migrations.RemoveField(
                    model_name='journeyentry',
                    name='journey',
                ),
                migrations.RemoveField(
                    model_name='journeymessage',
                    name='journey',
                ),
                migrations.RemoveField(
                    model_name='journeyentry',
                    name='visitor',
                ),
                migrations.RemoveField(
                    model_name='journeymessage',
                    name='entry',
                ),
                migrations.RemoveField(
                    model_name='journeymessage',
                    name='step',
                ),
                migrations.RemoveField(
                    model_name='journeymessage',
                    name='visitor',
                ),
                migrations.RemoveField(
                    model_name='memberprofile',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='MessagingSettings',
                ),
                migrations.DeleteModel(
                    name='EmailTemplate',
                ),
                migrations.DeleteModel(
                    name='Event',
                ),
                migrations.DeleteModel(
                    name='Journey',
                ),
                migrations.DeleteModel(
                    name='JourneyEntry',
                ),
                migrations.DeleteModel(
                    name='JourneyStep',
                ),
                migrations.DeleteModel(
                    name='JourneyMessage',
                ),
                migrations.DeleteModel(
                    name='MemberProfile',
                ),
            ],
        ),
    ]
