"""Counters and indexes the dashboards read through.

- ReasonStats: bounced deliveries per campaign, reason and hard/soft (the reasons chart).
- minute_stats_minute: the overview sums every campaign's minutes since midnight / Monday.
- attempt_at: a report's latest events walk attempts backwards in time.
- On PostgreSQL, deliveries' email compares in byte order ("C"), so the (campaign, email)
  index serves the recipient lookup's prefix range under any database collation (the same
  reasoning as campaigns' migration 0002).
"""

import django.db.models.deletion
from django.db import migrations, models


def email_bytewise(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE delivery_delivery ALTER COLUMN email TYPE varchar(254) COLLATE "C"'
        )


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0003_templates_and_campaigns'),
        ('delivery', '0005_merge_0004_bounce_events_0004_transactional'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReasonStats',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('reason', models.CharField(max_length=32)),
                ('hard', models.BooleanField()),
                ('bounced', models.IntegerField(db_default=0, default=0)),
            ],
        ),
        migrations.AddIndex(
            model_name='attempt',
            index=models.Index(fields=['at'], name='attempt_at'),
        ),
        migrations.AddIndex(
            model_name='minutestats',
            index=models.Index(fields=['minute'], name='minute_stats_minute'),
        ),
        migrations.AddField(
            model_name='reasonstats',
            name='campaign',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='reason_stats', to='campaigns.campaign'),
        ),
        migrations.AddConstraint(
            model_name='reasonstats',
            constraint=models.UniqueConstraint(fields=('campaign', 'reason', 'hard'), name='reason_stats_once'),
        ),
        migrations.RunPython(email_bytewise, migrations.RunPython.noop),
    ]
