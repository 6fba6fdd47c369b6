"""One secret as the corrected backend keeps it: moto's model with AWS's DescribeSecret shape."""

from __future__ import annotations

from typing import Any

from moto.secretsmanager.models import FakeSecret


class FaithfulSecret(FakeSecret):
    """moto's secret with AWS's DescribeSecret shape: deprecated versions hidden, full RotationRules."""

    rotation_rules: dict[str, Any] | None = None
    #: Midnight UTC of the day of the last GetSecretValue (AWS keeps the date only).
    last_accessed_date: int | None = None
    #: The partner holding a managed external secret (CreateSecret/UpdateSecret ``Type``).
    secret_type: str | None = None
    #: What RotateSecret was told for a managed external secret's rotation (stored, not acted on).
    external_rotation_metadata: list[dict[str, str]] | None = None
    external_rotation_role_arn: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        labelled = {
            vid: list(v["version_stages"])
            for vid, v in self.versions.items()
            if v["version_stages"]
        }
        if self.versions:
            data["VersionIdsToStages"] = labelled
            data["SecretVersionsToStages"] = labelled
        if self.last_accessed_date is not None:
            data["LastAccessedDate"] = self.last_accessed_date
        data["Type"] = self.secret_type
        if self.external_rotation_metadata is not None:
            data["ExternalSecretRotationMetadata"] = [
                dict(item) for item in self.external_rotation_metadata
            ]
        data["ExternalSecretRotationRoleArn"] = self.external_rotation_role_arn
        if self.rotation_requested:
            data["RotationRules"] = dict(self.rotation_rules or {})
            if not self.rotation_enabled:
                # AWS: null "if the secret isn't configured for rotation or rotation has been
                # disabled" (ListSecrets puts it back: there it means the last rotation).
                data["NextRotationDate"] = None
                data["LastRotatedDate"] = None
        else:
            data.pop("NextRotationDate", None)
        return {key: value for key, value in data.items() if value is not None}
