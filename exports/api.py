"""/system/exports: thin DRF views over the export services."""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from exports import selectors, services
from exports.filters import ExportJobFilter
from exports.formats import FORMATS
from exports.models import ExportJob
from exports.registry import all_datasets
from opsconsole.api.exceptions import InvalidInput
from opsconsole.api.permissions import staff_action_permissions
from opsconsole.api.serializers import StrictSerializer

VIEW = ["exports.view_exportjob"]
CHANGE = ["exports.change_exportjob"]


class ExportJobCreateSerializer(StrictSerializer):
    job_type = serializers.CharField(max_length=128, help_text="A dataset name (see /datasets) or 'snapshot'.")
    format = serializers.ChoiceField(choices=sorted(FORMATS), default="csv")
    filter_params = serializers.JSONField(
        required=False,
        default=dict,
        help_text="Filters of the dataset's FilterSet; for a snapshot {dataset: {filters}}.",
    )
    datasets = serializers.ListField(
        child=serializers.CharField(), required=False, default=list, help_text="Datasets of a snapshot."
    )
    note = serializers.CharField(
        max_length=256, required=False, allow_blank=True, default="", help_text="Free text about the export."
    )
    requested_by = serializers.CharField(
        max_length=256,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Deprecated: stored as the note. The job's requested_by is always the authenticated user.",
    )

    def validate(self, attrs):
        # Older clients name the requester here; who asked is the authenticated user, so their
        # text is kept as the note.
        claimed = attrs.pop("requested_by", None)
        if claimed:
            if attrs.get("note") and attrs["note"] != claimed:
                raise serializers.ValidationError(
                    {"requested_by": ["Send the text as note only (requested_by is its old name)."]}
                )
            attrs["note"] = claimed
        return attrs


class ExportJobSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True, allow_null=True, help_text="0..1 when the total is known.")
    storage_url = serializers.SerializerMethodField(help_text="The download endpoint of the file, once completed.")

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "job_type",
            "format",
            "datasets",
            "filter_params",
            "status",
            "storage_url",
            "error_message",
            "requested_by",
            "note",
            "created_at",
            "started_at",
            "completed_at",
            "progress",
            "rows_written",
            "total_rows",
            "file_size",
            "sha256",
            "expires_at",
            "attempts",
        ]
        read_only_fields = fields

    def get_storage_url(self, job: ExportJob) -> str | None:
        if not job.storage_url:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(job.storage_url) if request else job.storage_url


class ExportStatusSerializer(StrictSerializer):
    status = serializers.CharField(help_text="Only 'cancelled' (from pending or running).")


@extend_schema_view(
    get=extend_schema(summary="List export jobs", responses=ExportJobSerializer(many=True)),
    post=extend_schema(
        summary="Start an export or snapshot",
        description="Returns 201 with a new job, or 200 with an identical pending/running job of the same requester.",
        request=ExportJobCreateSerializer,
        responses={201: ExportJobSerializer, 200: ExportJobSerializer},
    ),
)
class ExportJobListCreateView(generics.ListCreateAPIView):
    queryset = ExportJob.objects.all()
    serializer_class = ExportJobSerializer
    filterset_class = ExportJobFilter

    def get_queryset(self):
        return selectors.export_job_list()

    def create(self, request, *args, **kwargs):
        if not isinstance(request.data, dict):
            raise InvalidInput("Expected a JSON object.", fields={"non_field_errors": ["Expected a JSON object."]})
        incoming = ExportJobCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        job, created = services.export_job_create(user=request.user, **incoming.validated_data)
        body = ExportJobSerializer(job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema_view(get=extend_schema(summary="One export job with its progress"))
class ExportJobDetailView(generics.RetrieveAPIView):
    queryset = ExportJob.objects.all()
    serializer_class = ExportJobSerializer


class ExportJobStatusView(generics.GenericAPIView):
    queryset = ExportJob.objects.all()
    serializer_class = ExportStatusSerializer
    required_permissions = staff_action_permissions(read=VIEW, write=CHANGE)

    @extend_schema(
        summary="Cancel an export",
        request=ExportStatusSerializer,
        responses={
            200: ExportJobSerializer,
            400: OpenApiResponse(description="Missing or unknown status."),
            409: OpenApiResponse(description="Not a legal transition."),
        },
    )
    def post(self, request, pk: int):
        job = self.get_object()
        incoming = ExportStatusSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        job = services.export_job_set_status(job=job, status=incoming.validated_data["status"])
        return Response(ExportJobSerializer(job, context=self.get_serializer_context()).data)


class ExportJobDownloadView(generics.GenericAPIView):
    queryset = ExportJob.objects.all()
    required_permissions = staff_action_permissions(read=VIEW, write=CHANGE)

    @extend_schema(
        summary="Download the export file",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            409: OpenApiResponse(description="The job has not completed."),
            410: OpenApiResponse(description="The file expired or was purged."),
        },
    )
    def get(self, request, pk: int):
        job = self.get_object()
        # The file holds the rows of its datasets: the same permission as asking for them.
        services.export_datasets_check_permission(user=request.user, job_type=job.job_type, datasets=job.datasets)
        handle, filename, content_type = selectors.export_job_download(job=job)
        response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
        if job.sha256:
            response["X-Checksum-SHA256"] = job.sha256
        return response


class DatasetListSerializer(serializers.Serializer):
    formats = serializers.ListField(child=serializers.CharField())
    datasets = serializers.ListField(child=serializers.DictField())


class DatasetListView(generics.GenericAPIView):
    queryset = ExportJob.objects.none()
    required_permissions = staff_action_permissions(read=VIEW, write=CHANGE)
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        summary="What can be exported: datasets, their columns and filters, formats", responses=DatasetListSerializer
    )
    def get(self, request):
        return Response(
            {
                "formats": list(FORMATS),
                "snapshot": "job_type 'snapshot' with a 'datasets' list: one zip with a file per dataset",
                "datasets": [dataset.describe() for dataset in all_datasets()],
            }
        )
