from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import serializers

from opsconsole.api.exceptions import Conflict, InvalidInput, Unavailable, exception_handler


def handle(exc):
    return exception_handler(exc, {})


def test_app_conflict_becomes_409_with_detail():
    response = handle(Conflict("Job is completed; only pending or running jobs can be cancelled."))
    assert response.status_code == 409
    assert response.data == {"detail": "Job is completed; only pending or running jobs can be cancelled."}


def test_invalid_input_carries_field_errors():
    response = handle(InvalidInput("Unknown category.", fields={"category": ["Known: a, b."]}))
    assert response.status_code == 400
    assert response.data["errors"] == {"category": ["Known: a, b."]}


def test_unavailable_sets_retry_after_header():
    response = handle(Unavailable("Read-only.", retry_after=120, mode="read_only"))
    assert response.status_code == 503
    assert response["Retry-After"] == "120"
    assert response.data["mode"] == "read_only"


def test_serializer_errors_name_the_fields_in_detail():
    response = handle(serializers.ValidationError({"days_to_keep": ["Must be at most 36500."]}))
    assert response.status_code == 400
    assert response.data["detail"] == "Invalid input: days_to_keep."
    assert response.data["errors"] == {"days_to_keep": ["Must be at most 36500."]}


def test_django_validation_error_maps_to_400_per_field():
    response = handle(DjangoValidationError({"target": ["Enter a valid URL."]}))
    assert response.status_code == 400
    assert response.data["errors"]["target"] == ["Enter a valid URL."]


def test_http404_maps_to_json_404():
    response = handle(Http404())
    assert response.status_code == 404
    assert "detail" in response.data
