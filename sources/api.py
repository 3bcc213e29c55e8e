"""/system/sources: the configured sources, their registered tables and introspection. Views only
call services and selectors."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from opsconsole.api.permissions import staff_action_permissions
from opsconsole.api.serializers import StrictCharField, StrictSerializer
from sources import selectors, services
from sources.connections import source_get, source_list, source_reachability
from sources.filters import NoFilters, OutboxFilter, SourceTableFilter
from sources.introspection import describe_table, table_names
from sources.models import SourceTable

VIEW = ["sources.view_sourcetable"]
ADD = ["sources.add_sourcetable"]


class SourceTableSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="The dataset and retention category name.")

    class Meta:
        model = SourceTable
        fields = [
            "id",
            "name",
            "source",
            "table",
            "timestamp_column",
            "columns",
            "purge_condition",
            "description",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SourceTableInputSerializer(StrictSerializer):
    source = StrictCharField(max_length=63)
    table = StrictCharField(max_length=255)
    timestamp_column = StrictCharField(max_length=255)
    columns = serializers.ListField(child=StrictCharField(max_length=255), required=False, allow_empty=False)
    purge_condition = serializers.JSONField(required=False, allow_null=True)
    description = StrictCharField(required=False, allow_blank=True)


class SourceTableChangeSerializer(SourceTableInputSerializer):
    read_only_keys = {
        "source": "A registered table keeps its source: delete it and register the other one.",
        "table": "A registered table keeps its table: delete it and register the other one.",
    }

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields.pop("source")
        fields.pop("table")
        return fields


class SourceListView(generics.GenericAPIView):
    """Every configured source with its reachability; never its URL, host, user or password."""

    queryset = SourceTable.objects.all()
    filterset_class = NoFilters
    pagination_class = None
    required_permissions = staff_action_permissions(read=VIEW, write=ADD)

    @extend_schema(operation_id="sources_list", responses={200: OpenApiResponse(description="The sources")})
    def get(self, request) -> Response:
        self.filter_queryset(self.get_queryset())
        counts: dict[str, int] = {}
        for table in selectors.source_table_list():
            counts[table.source] = counts.get(table.source, 0) + 1
        results = []
        for source in source_list():
            reachable, error = source_reachability(source)
            results.append(
                {
                    "name": source.name,
                    "vendor": source.vendor,
                    "read_only": source.read_only,
                    "reachable": reachable,
                    "error": error,
                    "registered_tables": counts.get(source.name, 0),
                }
            )
        return Response({"count": len(results), "results": results})


class SourceTablesIntrospectionView(generics.GenericAPIView):
    """The tables of one source and their columns, as introspection finds them (to pick one to register)."""

    queryset = SourceTable.objects.all()
    filterset_class = NoFilters
    pagination_class = None
    required_permissions = staff_action_permissions(read=ADD, write=ADD)

    @extend_schema(
        operation_id="sources_introspect_tables",
        responses={200: OpenApiResponse(description="The source's tables, primary keys and columns")},
    )
    def get(self, request, source: str) -> Response:
        self.filter_queryset(self.get_queryset())
        found = source_get(source)
        registered = set(selectors.source_table_list(source=found.name).values_list("table", flat=True))
        results = []
        for name in table_names(found):
            info = describe_table(found, name)
            if info is not None:
                results.append({**info.describe(), "registered": info.name in registered})
        return Response({"source": found.name, "count": len(results), "results": results})


class SourceTableListCreateView(generics.ListAPIView):
    """GET: the registered tables. POST: register a table (every name checked by introspection)."""

    queryset = SourceTable.objects.all()
    serializer_class = SourceTableSerializer
    filterset_class = SourceTableFilter

    def get_queryset(self):
        return selectors.source_table_list()

    @extend_schema(request=SourceTableInputSerializer, responses={201: SourceTableSerializer})
    def post(self, request) -> Response:
        serializer = SourceTableInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        table = services.source_table_register(**serializer.validated_data)
        return Response(SourceTableSerializer(table).data, status=status.HTTP_201_CREATED)


class SourceTableDetailView(generics.RetrieveAPIView):
    queryset = SourceTable.objects.all()
    serializer_class = SourceTableSerializer

    @extend_schema(request=SourceTableChangeSerializer, responses={200: SourceTableSerializer})
    def patch(self, request, pk: str) -> Response:
        serializer = SourceTableChangeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        table = services.source_table_update(source_table=self.get_object(), **serializer.validated_data)
        return Response(SourceTableSerializer(table).data)

    def delete(self, request, pk: str) -> Response:
        services.source_table_delete(source_table=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


OUTBOX_VIEW = ["notifications.view_notificationoutbox", "sources.view_sourcetable"]
OUTBOX_RETRY = ["notifications.add_notificationoutbox", "sources.view_sourcetable"]


class OutboxRetrySerializer(StrictSerializer):
    source = StrictCharField(max_length=63)
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=1000, help_text="Default: every row."
    )


class SourceOutboxView(generics.GenericAPIView):
    """A source's outbox relay backlog: rows waiting and rows kept with an error (never their body or payload)."""

    queryset = SourceTable.objects.all()
    filterset_class = OutboxFilter
    pagination_class = None
    required_permissions = staff_action_permissions(read=OUTBOX_VIEW, write=OUTBOX_RETRY)

    @extend_schema(operation_id="sources_outbox", responses={200: OpenApiResponse(description="The backlog")})
    def get(self, request) -> Response:
        self.filter_queryset(self.get_queryset())  # unknown keys, a missing source or a bad status are a 400
        found = source_get(request.query_params["source"])
        body = selectors.source_outbox_backlog(source=found, status=request.query_params.get("status"))
        return Response({"source": found.name, **body})


class SourceOutboxRetryView(generics.GenericAPIView):
    """Clear the error of kept rows (all, or `ids`): the relay tries them again (after fixing the channel)."""

    queryset = SourceTable.objects.all()
    serializer_class = OutboxRetrySerializer
    required_permissions = staff_action_permissions(read=OUTBOX_VIEW, write=OUTBOX_RETRY)

    @extend_schema(operation_id="sources_outbox_retry", responses={200: OpenApiResponse(description="Rows retried")})
    def post(self, request) -> Response:
        serializer = OutboxRetrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        retried = services.source_outbox_retry(**serializer.validated_data)
        return Response({"source": serializer.validated_data["source"], "retried": retried})
