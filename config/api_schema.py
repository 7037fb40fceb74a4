"""The OpenAPI schema's error responses: every status an operation can answer.

drf-standardized-errors documents the errors each view can raise. On top of
it, what any request here can meet: a 400 (the hostile-input guard refuses a
NUL or bad bytes in any query string or body), a 413 for a body over the size
limit, a 403 on any operation a grant's level or profile can refuse. Codes
are documented as strings (with the usual ones listed), not enums, so that a
new code is not a breaking change.
"""

from drf_standardized_errors.openapi import AutoSchema as StandardizedAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class _Error(serializers.Serializer):
    code = serializers.CharField(
        help_text="Stable, for programs: e.g. not_found, required, invalid, "
        "throttled, not_authenticated, authentication_failed, "
        "profile_not_allowed, scope_insufficient, account_access_required."
    )
    detail = serializers.CharField(help_text="For people.")
    attr = serializers.CharField(
        allow_null=True,
        help_text="The field at fault (dotted when nested), or null.",
    )


class ErrorResponse(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=["validation_error", "client_error", "server_error"]
    )
    errors = _Error(many=True)


class AutoSchema(StandardizedAutoSchema):
    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code in responses:
            return False
        if status_code == "400":
            return True
        if status_code == "413":
            return self.method in ("POST", "PUT", "PATCH")
        if status_code == "403":
            permissions = self.view.get_permissions()
            return not (len(permissions) == 1 and type(permissions[0]) is AllowAny)
        return super()._should_add_error_response(responses, status_code)

    def _get_error_response_serializer(self, status_code: str):
        return ErrorResponse
