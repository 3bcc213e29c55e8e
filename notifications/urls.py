"""/system/notify: every path with and without its trailing slash, for every method (no redirects)."""

from django.urls import re_path

from notifications.api import ChannelViewSet, OutboxViewSet

app_name = "notifications"

channel_action = r"^notify/channels/(?P<pk>[0-9]+)/{}/?$"
outbox_action = r"^notify/(?P<pk>[0-9]+)/{}/?$"

urlpatterns = [
    re_path(r"^notify/channels/?$", ChannelViewSet.as_view({"get": "list", "post": "create"}), name="channel-list"),
    re_path(
        r"^notify/channels/(?P<pk>[0-9]+)/?$",
        ChannelViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="channel-detail",
    ),
    re_path(
        channel_action.format("rotate-secret"),
        ChannelViewSet.as_view({"post": "rotate_secret"}),
        name="channel-rotate-secret",
    ),
    re_path(channel_action.format("test"), ChannelViewSet.as_view({"post": "test"}), name="channel-test"),
    re_path(channel_action.format("pause"), ChannelViewSet.as_view({"post": "pause"}), name="channel-pause"),
    re_path(channel_action.format("resume"), ChannelViewSet.as_view({"post": "resume"}), name="channel-resume"),
    re_path(r"^notify/replay/?$", OutboxViewSet.as_view({"post": "replay"}), name="outbox-replay"),
    re_path(r"^notify/?$", OutboxViewSet.as_view({"get": "list", "post": "create"}), name="outbox-list"),
    re_path(r"^notify/(?P<pk>[0-9]+)/?$", OutboxViewSet.as_view({"get": "retrieve"}), name="outbox-detail"),
    re_path(outbox_action.format("retry"), OutboxViewSet.as_view({"post": "retry"}), name="outbox-retry"),
    re_path(outbox_action.format("cancel"), OutboxViewSet.as_view({"post": "cancel"}), name="outbox-cancel"),
]
