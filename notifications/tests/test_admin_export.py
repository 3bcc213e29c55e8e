import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from exports.models import ExportJob
from notifications.tests.factories import ChannelFactory, OutboxFactory

pytestmark = pytest.mark.django_db


def test_export_action_on_the_outbox_turns_the_changelist_filters_into_a_job(admin_client):
    channel = ChannelFactory()
    row = OutboxFactory(channel=channel, status="failed")
    response = admin_client.post(
        f"/admin/notifications/notificationoutbox/?status__exact=failed&channel__id__exact={channel.pk}",
        {"action": "export_notifications_outbox_rows", ACTION_CHECKBOX_NAME: [row.pk]},
        follow=True,
    )
    assert response.status_code == 200
    job = ExportJob.objects.get()
    assert job.job_type == "notifications.outbox"
    assert job.filter_params == {"status": "failed", "channel": str(channel.pk)}


def test_export_action_on_channels_keeps_the_active_filter(admin_client):
    active = ChannelFactory(active=True)
    ChannelFactory(active=False)
    admin_client.post(
        "/admin/notifications/notificationchannel/?active__exact=1",
        {"action": "export_notifications_channels_rows", ACTION_CHECKBOX_NAME: [active.pk]},
        follow=True,
    )
    job = ExportJob.objects.get()
    assert str(job.filter_params["active"]).lower() == "true"
