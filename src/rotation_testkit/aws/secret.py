"""One secret as the corrected backend keeps it: moto's model with AWS's DescribeSecret shape."""

from __future__ import annotations

from typing import Any

from moto.secretsmanager.models import FakeSecret


class FaithfulSecret(FakeSecret):
    """moto's secret with AWS's DescribeSecret shape: deprecated versions hidden, full RotationRules."""

    rotation_rules: dict[str, Any] | None = None

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
        if self.rotation_requested:
            data["RotationRules"] = dict(self.rotation_rules or {})
            if not self.rotation_enabled:
                data["NextRotationDate"] = None
        else:
            data.pop("NextRotationDate", None)
        return {key: value for key, value in data.items() if value is not None}
