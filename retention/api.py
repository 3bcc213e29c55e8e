"""/system/retention: policies, categories, purges and their history. Views only call services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from opsconsole.api.permissions import staff_action_permissions
from opsconsole.api.serializers import StrictBooleanField, StrictCharField, StrictIntegerField, StrictSerializer
from retention import selectors, services
from retention.exceptions import PolicyNotFound
from retention.filters import PolicyFilter, PurgeRunFilter
from retention.models import DataRetentionPolicy, PurgeRun, PurgeTrigger
from retention.registry import registry


def _validate_category(name: str) -> str:
    if name not in registry:
        raise serializers.ValidationError(
            f"Unknown retention category {name!r}. Known categories: {', '.join(registry.names())}."
        )
    return name


# -- serializers ----------------------------------------------------------------------
class PolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = DataRetentionPolicy
        fields = [
            "id",
            "category",
            "days_to_keep",
            "enabled",
            "description",
            "legal_hold",
            "last_purged_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PolicyWriteSerializer(StrictSerializer):
    category = StrictCharField(max_length=128, validators=[_validate_category])
    days_to_keep = StrictIntegerField(
        min_value=services.DAYS_TO_KEEP_MIN, max_value=services.DAYS_TO_KEEP_MAX, required=False
    )
    enabled = StrictBooleanField(required=False)
    description = StrictCharField(
        required=False, allow_blank=True, allow_null=True, help_text='Why this period; null or "" clears it.'
    )
    legal_hold = StrictBooleanField(required=False)

    def validate_description(self, value: str | None) -> str:
        return value or ""  # an explicit null clears it, as "" does (omitted keeps it)


class PurgeRunSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = PurgeRun
        fields = [
            "id",
            "category",
            "trigger",
            "actor",
            "actor_name",
            "dry_run",
            "cutoff",
            "matched",
            "deleted",
            "started_at",
            "finished_at",
            "status",
            "error",
        ]
        read_only_fields = fields

    def get_actor(self, run: PurgeRun) -> str | None:
        return run.actor.get_username() if run.actor else None


class PurgeRequestSerializer(StrictSerializer):
    dry_run = StrictBooleanField(required=False, default=True)
    categories = serializers.ListField(
        child=serializers.CharField(validators=[_validate_category]), required=False, allow_empty=False
    )


class CategorySerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    table = serializers.CharField()
    date_field = serializers.CharField()
    default_days_to_keep = serializers.IntegerField()
    policy = PolicySerializer(allow_null=True)
    days_to_keep = serializers.IntegerField(help_text="The policy's period, or the default without a policy.")
    cutoff = serializers.DateTimeField(help_text="Rows dated before this are due.")
    rows_due = serializers.IntegerField(
        allow_null=True,
        help_text="Rows dated before the cutoff: what a purge would delete now if `purgeable` (else 0 would go).",
    )
    purgeable = serializers.BooleanField(help_text="False without a policy, or when disabled or on legal hold.")


def _category_data(status_: selectors.CategoryStatus) -> dict[str, Any]:
    category = status_.category
    return {
        "name": category.name,
        "description": category.description,
        "table": category.table,
        "date_field": category.date_field,
        "default_days_to_keep": category.default_days_to_keep,
        "policy": status_.policy,
        "days_to_keep": status_.days_to_keep,
        "cutoff": status_.cutoff,
        "rows_due": status_.rows_due,
        "purgeable": status_.purgeable,
    }


# -- views ----------------------------------------------------------------------------
@extend_schema_view(get=extend_schema(summary="List the retention policies"))
class PolicyListCreateView(generics.ListAPIView):
    """GET: the policies. POST: create or update the policy of a category (idempotent)."""

    queryset = DataRetentionPolicy.objects.all()
    serializer_class = PolicySerializer
    filterset_class = PolicyFilter

    def get_queryset(self):
        return selectors.policy_list()

    @extend_schema(
        summary="Create or update the retention policy of a category",
        request=PolicyWriteSerializer,
        responses={201: PolicySerializer, 200: PolicySerializer, 400: OpenApiResponse(description="Bad input")},
    )
    def post(self, request, *args, **kwargs) -> Response:
        serializer = PolicyWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        existing = selectors.policy_get(category=serializer.validated_data["category"])
        if existing is not None and not request.user.has_perm("retention.change_dataretentionpolicy"):
            raise PermissionDenied("Updating a policy needs the change permission.")
        policy, created = services.policy_upsert(**serializer.validated_data)
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(PolicySerializer(policy).data, status=code)


@extend_schema_view(get=extend_schema(summary="The retention policy of one category"))
class PolicyDetailView(generics.GenericAPIView):
    """The policy of one category; 404 when the category has none (or is unknown)."""

    queryset = DataRetentionPolicy.objects.all()
    serializer_class = PolicySerializer

    def get(self, request, category: str) -> Response:
        self.filter_queryset(self.get_queryset())  # unknown query parameters are a 400
        policy = selectors.policy_get(category=category)
        if policy is None:
            known = category in registry
            raise PolicyNotFound(
                f"No retention policy for {category!r}."
                if known
                else f"No retention policy for {category!r}: no such category. Known: {', '.join(registry.names())}."
            )
        return Response(PolicySerializer(policy).data)


@extend_schema_view(get=extend_schema(summary="Retention categories with the rows a purge would delete now"))
class CategoryListView(generics.GenericAPIView):
    """Every registered category with the rows a purge would delete now (policy or default period)."""

    queryset = DataRetentionPolicy.objects.all()
    serializer_class = CategorySerializer
    pagination_class = None

    def get(self, request) -> Response:
        self.filter_queryset(self.get_queryset())  # unknown query parameters are a 400
        results = [_category_data(item) for item in selectors.category_status_list()]
        return Response({"count": len(results), "results": CategorySerializer(results, many=True).data})


class PurgeView(generics.GenericAPIView):
    """A dry run answers at once with the counts; a real purge is queued to a worker (202 + run ids)."""

    queryset = PurgeRun.objects.all()
    serializer_class = PurgeRequestSerializer
    required_permissions = staff_action_permissions(
        read=["retention.view_purgerun"], write=["retention.add_purgerun", "retention.view_dataretentionpolicy"]
    )

    @extend_schema(
        summary="Preview a purge (dry run) or queue one for a worker",
        request=PurgeRequestSerializer,
        responses={
            200: OpenApiResponse(description="Dry run: the rows due per category"),
            202: OpenApiResponse(description="Purge queued: the PurgeRun ids"),
            409: OpenApiResponse(description="Refused: maintenance mode is not normal"),
        },
    )
    def post(self, request) -> Response:
        serializer = PurgeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        categories = serializer.validated_data.get("categories")
        if serializer.validated_data["dry_run"]:
            result = services.purge_preview(categories=categories, trigger=PurgeTrigger.API, actor=request.user)
            body = result.as_dict()
            return Response(
                {
                    "dry_run": True,
                    "runs": body["runs"],
                    "skipped": body["skipped"],
                    "rows_due": sum(run.matched for run in result.runs),
                },
                status=status.HTTP_200_OK,
            )
        result = services.purge_submit(categories=categories, trigger=PurgeTrigger.API, actor=request.user)
        run_ids = [run.pk for run in result.runs]
        as_dict = result.as_dict()
        body = {
            "dry_run": False,
            "queued": bool(run_ids),
            "run_ids": run_ids,
            "runs": as_dict["runs"],
            "skipped": as_dict["skipped"],
        }
        return Response(body, status=status.HTTP_202_ACCEPTED if run_ids else status.HTTP_200_OK)


@extend_schema_view(get=extend_schema(summary="List the purge runs (the purge history)"))
class PurgeRunListView(generics.ListAPIView):
    """The purge history, newest first (filters: category, status, trigger, dry_run, started_after/before)."""

    queryset = PurgeRun.objects.all()
    serializer_class = PurgeRunSerializer
    filterset_class = PurgeRunFilter

    def get_queryset(self):
        return selectors.purge_run_list()


@extend_schema_view(get=extend_schema(summary="One purge run"))
class PurgeRunDetailView(generics.RetrieveAPIView):
    queryset = PurgeRun.objects.select_related("actor")
    serializer_class = PurgeRunSerializer
