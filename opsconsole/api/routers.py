"""Routing where every path works with and without its trailing slash."""

from rest_framework.routers import DefaultRouter, SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """`/system/notify/channels` and `/system/notify/channels/` both resolve, for every method."""

    def __init__(self) -> None:
        super().__init__(trailing_slash="/?")


class OptionalSlashDefaultRouter(DefaultRouter):
    def __init__(self) -> None:
        super().__init__(trailing_slash="/?")
