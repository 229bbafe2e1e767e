"""members: the models moved here from `personalization` (0007 there), rows untouched."""

import cms.members.models
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from personalization.migration_support import content_types_move

APP_LABEL = 'members'
MODELS = ('memberprofile',)



class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('personalization', '0007_models_move_to_their_apps'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist (renamed by personalization 0007): the state takes them over.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='MemberProfile',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('birth_date', models.DateField(blank=True, null=True, validators=[cms.members.models.validate_birth_date], verbose_name='birth date')),
                        ('gender', models.CharField(choices=[('female', 'Female'), ('male', 'Male'), ('nonbinary', 'Non-binary'), ('unspecified', 'Prefer not to say')], default='unspecified', max_length=16, verbose_name='gender')),
                        ('region', models.CharField(blank=True, choices=[('hokkaido', 'Hokkaido'), ('aomori', 'Aomori'), ('iwate', 'Iwate'), ('miyagi', 'Miyagi'), ('akita', 'Akita'), ('yamagata', 'Yamagata'), ('fukushima', 'Fukushima'), ('ibaraki', 'Ibaraki'), ('tochigi', 'Tochigi'), ('gunma', 'Gunma'), ('saitama', 'Saitama'), ('chiba', 'Chiba'), ('tokyo', 'Tokyo'), ('kanagawa', 'Kanagawa'), ('niigata', 'Niigata'), ('toyama', 'Toyama'), ('ishikawa', 'Ishikawa'), ('fukui', 'Fukui'), ('yamanashi', 'Yamanashi'), ('nagano', 'Nagano'), ('gifu', 'Gifu'), ('shizuoka', 'Shizuoka'), ('aichi', 'Aichi'), ('mie', 'Mie'), ('shiga', 'Shiga'), ('kyoto', 'Kyoto'), ('osaka', 'Osaka'), ('hyogo', 'Hyogo'), ('nara', 'Nara'), ('wakayama', 'Wakayama'), ('tottori', 'Tottori'), ('shimane', 'Shimane'), ('okayama', 'Okayama'), ('hiroshima', 'Hiroshima'), ('yamaguchi', 'Yamaguchi'), ('tokushima', 'Tokushima'), ('kagawa', 'Kagawa'), ('ehime', 'Ehime'), ('kochi', 'Kochi'), ('fukuoka', 'Fukuoka'), ('saga', 'Saga'), ('nagasaki', 'Nagasaki'), ('kumamoto', 'Kumamoto'), ('oita', 'Oita'), ('miyazaki', 'Miyazaki'), ('kagoshima', 'Kagoshima'), ('okinawa', 'Okinawa'), ('overseas', 'Overseas')], max_length=16, verbose_name='region')),
                        ('occupation', models.CharField(choices=[('office_worker', 'Office worker'), ('public_servant', 'Public servant'), ('self_employed', 'Self-employed'), ('part_time', 'Part-time worker'), ('homemaker', 'Homemaker'), ('student', 'Student'), ('retired', 'Retired'), ('other', 'Other'), ('unspecified', 'Prefer not to say')], default='unspecified', max_length=24, verbose_name='occupation')),
                        ('tier', models.CharField(choices=[('regular', 'Regular'), ('silver', 'Silver'), ('gold', 'Gold'), ('platinum', 'Platinum')], default='regular', max_length=16, verbose_name='membership tier')),
                        ('pet_type', models.CharField(choices=[('none', 'No pet'), ('dog', 'Dog'), ('cat', 'Cat'), ('other', 'Other')], default='none', max_length=8, verbose_name='pet')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='profile', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'member profile',
                    },
                ),
            ],
        ),
        content_types_move(APP_LABEL, MODELS),
    ]
