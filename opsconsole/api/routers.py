"""Routing where every path works with and without its trailing slash."""

from rest_framework.routers import DefaultRouter, SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """`/system/notify/channels` and `/system/notify/channels/` both resolve, for every method."""

    def __init__(self) -> None:
        super().__init__()
        # DRF's constructor treats trailing_slash as a boolean; the pattern is set after it.
        self.trailing_slash = "/?"


class OptionalSlashDefaultRouter(DefaultRouter):
    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
