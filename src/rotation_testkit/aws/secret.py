"""One secret as the corrected backend keeps it: moto's model with AWS's DescribeSecret shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moto.secretsmanager.models import FakeSecret

from ..foundations import labels
from ..foundations.version_table import Version, VersionTable


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

    # Whatever builds the versions (moto, a saved state being loaded, a plain dict assigned), the
    # secret keeps them in a table that indexes the labelled ones.
    @property
    def versions(self) -> VersionTable:
        table = self.__dict__["versions"]
        if type(table) is not VersionTable:
            # moto built this secret as a FakeSecret, with a plain dict, before it became ours.
            table = self.__dict__["versions"] = VersionTable(table)
        return table

    @versions.setter
    def versions(self, versions: Mapping[str, Version]) -> None:
        self.__dict__["versions"] = (
            versions if type(versions) is VersionTable else VersionTable(versions)
        )

    # moto's own roads to a new version (its _add_secret, reached by a CreateSecret that names an
    # existing secret with its pending version's token) move labels through the helpers too.
    def reset_default_version(self, secret_version: dict[str, Any], version_id: str) -> None:
        labels.take_off(self.versions, labels.AWSPREVIOUS)
        if self.default_version_id:
            labels.replace_labels(self.versions, self.default_version_id, [labels.AWSPREVIOUS])
        self.versions[version_id] = secret_version
        self.default_version_id = version_id

    def remove_version_stages_from_old_versions(self, version_stages: list[str]) -> None:
        for stage in version_stages:
            labels.take_off(self.versions, stage)

    def _form_version_ids_to_stages(self) -> dict[str, Any]:
        # moto lists every version here; AWS's DescribeSecret shows only the labelled ones.
        return {vid: list(stages) for vid, stages in labels.snapshot(self.versions).items()}

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()  # its VersionIdsToStages come from _form_version_ids_to_stages
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
