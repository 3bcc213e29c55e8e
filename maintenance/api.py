"""/system/maintenance: read and change the mode, list its history. Views only call services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from maintenance.filters import MaintenanceEventFilter
from maintenance.models import MaintenanceEvent, MaintenanceState, Mode
from maintenance.selectors import maintenance_event_list, maintenance_state_get
from maintenance.services import MAX_RETRY_AFTER, maintenance_set_mode
from maintenance.state import MaintenanceSnapshot
from opsconsole.api.filters import StrictFilterBackend
from opsconsole.api.pagination import IdCursorPagination
from opsconsole.api.permissions import staff_action_permissions
from opsconsole.api.serializers import StrictCharField, StrictIntegerField, StrictSerializer


class MaintenanceStateSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=Mode.choices)
    message = serializers.CharField()
    retry_after = serializers.IntegerField(help_text="Seconds clients are told to wait while not normal.")
    until = serializers.DateTimeField(allow_null=True, help_text="When the mode returns to normal by itself.")
    updated_by = serializers.CharField(help_text="Username of the last change's author (empty: command/schedule).")
    updated_at = serializers.DateTimeField(allow_null=True)


class MaintenanceChangeSerializer(StrictSerializer):
    mode = StrictCharField(help_text="normal, read_only or maintenance.")
    reason = StrictCharField(max_length=2000, help_text="Why; recorded in the history.")
    message = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Shown to users (at most 2000 characters).",
    )
    until = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="ISO 8601; return to normal at this time."
    )
    retry_after = StrictIntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=MAX_RETRY_AFTER,
        help_text="Retry-After seconds while not normal; omitted keeps the current value.",
    )  # fmt: skip


class MaintenanceEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_name", help_text="Username of who made the change.")

    class Meta:
        model = MaintenanceEvent
        fields = ["id", "from_mode", "to_mode", "reason", "message", "until", "retry_after", "actor", "source", "at"]


def _state_body(snapshot: MaintenanceSnapshot) -> dict[str, Any]:
    return MaintenanceStateSerializer(
        {
            "mode": snapshot.mode,
            "message": snapshot.message,
            "retry_after": snapshot.retry_after,
            "until": snapshot.until,
            "updated_by": snapshot.updated_by,
            "updated_at": snapshot.updated_at,
        }
    ).data


_ERROR = inline_serializer(
    "MaintenanceError", {"detail": serializers.CharField(), "errors": serializers.DictField(required=False)}
)


class MaintenanceStateView(APIView):
    """GET the mode in force; POST to change it (exempt from the read-only shield)."""

    queryset = MaintenanceState.objects.all()
    required_permissions = staff_action_permissions(
        read=["maintenance.view_maintenancestate"], write=["maintenance.change_maintenancestate"]
    )

    @extend_schema(
        operation_id="maintenance_state",
        summary="The maintenance mode in force",
        responses={200: MaintenanceStateSerializer},
        tags=["maintenance"],
    )
    def get(self, request: Request) -> Response:
        StrictFilterBackend().reject_unknown_params(request, self, self.queryset)
        return Response(_state_body(maintenance_state_get()))

    @extend_schema(
        operation_id="maintenance_change",
        summary="Change the maintenance mode",
        description=(
            "Every transition between distinct modes is allowed. Same mode with a new message, until or "
            "retry_after is an update. Other processes see the change within about a second."
        ),
        request=MaintenanceChangeSerializer,
        responses={
            200: MaintenanceStateSerializer,
            400: OpenApiResponse(_ERROR, description="Bad input: unknown mode or field, no reason, until in the past."),
            409: OpenApiResponse(_ERROR, description="Nothing to change: already in that mode."),
        },
        tags=["maintenance"],
    )
    def post(self, request: Request) -> Response:
        serializer = MaintenanceChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        state = maintenance_set_mode(**serializer.validated_data, actor=request.user, source="api")
        return Response(_state_body(MaintenanceSnapshot.from_state(state, updated_by=request.user.get_username())))


@extend_schema(
    summary="History of mode changes, newest first", tags=["maintenance"], responses=MaintenanceEventSerializer
)
class MaintenanceHistoryView(ListAPIView):
    """Every mode change (cursor-paginated, newest first)."""

    serializer_class = MaintenanceEventSerializer
    pagination_class = IdCursorPagination
    filterset_class = MaintenanceEventFilter

    def get_queryset(self):
        return maintenance_event_list()
