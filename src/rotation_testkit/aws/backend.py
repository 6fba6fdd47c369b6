"""The data plane: moto's Secrets Manager backend, corrected where it differs from AWS.

Each override below fixes one documented difference (see docs/faithfulness.md); everything else is
moto's. This module keeps the data (versions, labels, dates) right. RotateSecret and
CancelRotateSecret never reach it: the request layer (:mod:`.api`) hands them to the rotation
control plane (:mod:`.rotation`), and this store only tells the control plane, through
:class:`~.ports.StoreEvents`, about changes it must react to.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from moto.secretsmanager.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    OperationNotPermittedOnReplica,
    SecretNotFoundException,
    SecretsManagerClientError,
)
from moto.secretsmanager.models import ReplicaSecret, SecretsManagerBackend

from ..foundations import labels
from ..foundations.labels import AWSCURRENT, AWSPREVIOUS
from .errors import (
    MARKED_FOR_DELETION,
    MAX_STAGING_LABELS,
    no_value,
    not_one_of,
    token_in_use,
    too_many_labels,
    too_many_stages,
)
from .ports import StoreEvents, active_world
from .secret import FaithfulSecret

_DAY_SECONDS = 24 * 60 * 60

#: ListSecrets' SortBy values and the field of a listed secret each one sorts by.
SORT_FIELDS = {
    "created-date": "CreatedDate",
    "last-accessed-date": "LastAccessedDate",
    "last-changed-date": "LastChangedDate",
    "name": "Name",
}


class FaithfulSecretsManagerBackend(SecretsManagerBackend):
    """The backend moto builds for every account and region while a world is active."""

    @property
    def events(self) -> StoreEvents:
        """Who hears about changes: the control plane of the active world."""
        return active_world().control_plane

    # --- lookups ---------------------------------------------------------------------------

    def secret(self, secret_id: str, *, allow_deleted: bool = False) -> FaithfulSecret:
        """The primary secret a name, ARN or partial ARN designates."""
        secret = self.secrets.get(secret_id) if secret_id else None  # one search of the store
        if secret is None:
            raise SecretNotFoundException()
        if isinstance(secret, ReplicaSecret):
            raise OperationNotPermittedOnReplica
        if not isinstance(secret, FaithfulSecret):
            secret.__class__ = FaithfulSecret
        if secret.is_deleted() and not allow_deleted:
            raise InvalidRequestException(MARKED_FOR_DELETION)
        assert isinstance(secret, FaithfulSecret)
        return secret

    def find_secret(self, secret_id: str) -> FaithfulSecret | None:
        # Asked before and after every request: answer "none" without building an AWS error.
        if not secret_id or self.secrets.get(secret_id) is None:
            return None
        try:
            return self.secret(secret_id, allow_deleted=True)
        except SecretsManagerClientError:
            return None

    def client_request_token(self, given: str | None) -> str:
        """The version id a write will use: the caller's token (validated) or a new UUID."""
        return self._from_client_request_token(given)

    # --- writing versions -------------------------------------------------------------------

    def create_secret(self, name: str, *args: Any, **kwargs: Any) -> str:
        result = super().create_secret(name, *args, **kwargs)
        secret = self.secret(name)
        self._after_change(secret)
        return result

    def put_secret_value(
        self,
        secret_id: str,
        secret_string: str | None,
        secret_binary: str | None,
        client_request_token: str | None,
        version_stages: list[str],
    ) -> str:
        secret = self.secret(secret_id)
        token = self._from_client_request_token(client_request_token)
        self.write_version(secret, token, secret_string, secret_binary, list(version_stages))
        return secret.to_short_dict(include_version_stages=True, version_id=token)

    def update_secret(
        self,
        secret_id: str,
        secret_string: str | None = None,
        secret_binary: str | None = None,
        client_request_token: str | None = None,
        kms_key_id: str | None = None,
        description: str | None = None,
    ) -> str:
        secret = self.secret(secret_id)
        if secret_string is None and secret_binary is None:
            secret.update(
                description or secret.description, secret.tags, kms_key_id, int(time.time())
            )
            return secret.to_short_dict(include_version_id=False)
        if client_request_token and client_request_token in secret.versions:
            # Unlike PutSecretValue, UpdateSecret refuses any token that names a version, even
            # with the same value: it only ever creates versions.
            raise token_in_use(client_request_token, secret.arn)
        token = self._from_client_request_token(client_request_token)
        secret.update(description or secret.description, secret.tags, kms_key_id)
        self.write_version(secret, token, secret_string, secret_binary, [AWSCURRENT])
        return secret.to_short_dict(version_id=token)

    def write_version(
        self,
        secret: FaithfulSecret,
        token: str,
        secret_string: str | None,
        secret_binary: str | None,
        stages: list[str],
    ) -> None:
        """Create a version, or fill the empty placeholder a rotation made; never rewrite a value."""
        existing = secret.versions.get(token)
        if existing is not None and labels.has_value(existing):
            if labels.same_value(existing, secret_string, secret_binary):
                return  # an idempotent retry of the same request
            raise token_in_use(token, secret.arn)
        stages = list(dict.fromkeys(stages))
        if len(stages) > MAX_STAGING_LABELS:
            raise too_many_stages(stages)
        self._check_label_quota(secret, stages)
        now = int(time.time())
        version = (
            existing
            if existing is not None
            else {"version_id": token, "version_stages": [], "createdate": now}
        )
        for key, value in (("secret_string", secret_string), ("secret_binary", secret_binary)):
            if value is not None:
                version[key] = value
        secret.versions[token] = version
        if labels.holder(secret.versions, AWSCURRENT) is None and AWSCURRENT not in stages:
            stages.append(AWSCURRENT)  # the first value of a secret is its current one
        became_current = False
        for stage in stages:
            if stage == AWSCURRENT:
                became_current = labels.holder(secret.versions, AWSCURRENT) != token
                labels.move_current(secret.versions, token)
            else:
                labels.attach(secret.versions, stage, token)
        secret.last_changed_date = now
        if became_current:
            self.events.on_new_current_value(secret)
        self._after_change(secret)

    # --- reading ----------------------------------------------------------------------------

    def get_secret_value(
        self, secret_id: str, version_id: str | None, version_stage: str | None
    ) -> dict[str, Any]:
        secret = self.secret(secret_id)
        if version_id:
            version = secret.versions.get(version_id)
            if version is None:
                raise no_value(f"VersionId: {version_id}")
            if version_stage and version_stage not in version["version_stages"]:
                raise InvalidRequestException(
                    "You provided a VersionStage that is not associated to the provided VersionId."
                )
            missing = f"VersionId: {version_id}"
        else:
            stage = version_stage or AWSCURRENT
            found = labels.holder(secret.versions, stage)
            if found is None:
                raise no_value(f"staging label: {stage}")
            version = secret.versions[found]
            missing = f"staging label: {stage}"
        if not labels.has_value(version):
            # The empty placeholder RotateSecret made: AWS's templates rely on this error.
            raise no_value(missing)
        # AWS keeps the date of the last read, not the time: midnight UTC of that day.
        today = int(time.time()) // _DAY_SECONDS * _DAY_SECONDS
        version["last_accessed"] = today
        secret.last_accessed_date = today
        response: dict[str, Any] = {
            "ARN": secret.arn,
            "Name": secret.name,
            "VersionId": version["version_id"],
            "VersionStages": list(version["version_stages"]),
            "CreatedDate": version["createdate"],
        }
        for key, field in (("secret_string", "SecretString"), ("secret_binary", "SecretBinary")):
            if key in version:
                response[field] = version[key]
        return response

    def describe_secret(self, secret_id: str) -> FaithfulSecret:
        return self.secret(secret_id, allow_deleted=True)

    def list_versions(
        self,
        secret_id: str,
        *,
        include_deprecated: bool = False,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """ListSecretVersionIds: each version with its own dates; deprecated ones only on request."""
        secret = self.secret(secret_id, allow_deleted=True)
        entries = []
        # Deprecated versions (no label) are listed only on request: otherwise the labelled ones.
        listed = secret.versions if include_deprecated else labels.labelled(secret.versions)
        for version_id in reversed(list(listed)):
            version = secret.versions[version_id]
            if not labels.has_value(version):
                continue  # AWS lists only versions that hold a value (not the empty placeholder)
            entry: dict[str, Any] = {
                "VersionId": version_id,
                "VersionStages": list(version["version_stages"]),
                "CreatedDate": version["createdate"],
            }
            if "last_accessed" in version:
                entry["LastAccessedDate"] = version["last_accessed"]
            entries.append(entry)
        start = int(next_token) if next_token and next_token.isdigit() else 0
        page_size = max_results or 100
        page = entries[start : start + page_size]
        result: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name, "Versions": page}
        if start + page_size < len(entries):
            result["NextToken"] = str(start + page_size)
        return result

    def list_secret_version_ids(self, secret_id: str) -> str:
        return json.dumps(self.list_versions(secret_id))

    def list_secrets(
        self,
        filters: list[dict[str, Any]],
        max_results: int | None = None,
        next_token: str | None = None,
        include_planned_deletion: bool = False,
        *,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """ListSecrets, sorted before it is paged: by SortBy (CreatedDate if not given), in
        SortOrder (ascending if not given; AWS does not document its default direction)."""
        field = SORT_FIELDS.get(sort_by or "created-date")
        if field is None:
            raise not_one_of(sort_by, "sortBy", tuple(SORT_FIELDS))
        if sort_order not in (None, "asc", "desc"):
            raise not_one_of(sort_order, "sortOrder", ("asc", "desc"))
        entries, _ = super().list_secrets(
            filters,
            max_results=max(1, len(self.secrets)),
            include_planned_deletion=include_planned_deletion,
        )
        # DescribeSecret hides LastRotatedDate while rotation is off; ListSecrets documents it as
        # the last successful rotation, null only for a secret that never rotated.
        by_arn = {s.arn: s for s in self.secrets.values() if isinstance(s, FaithfulSecret)}
        for entry in entries:
            secret = by_arn.get(entry.get("ARN", ""))
            if secret is not None and secret.last_rotation_date and "LastRotatedDate" not in entry:
                entry["LastRotatedDate"] = secret.last_rotation_date
        # A secret never read has no LastAccessedDate: it sorts as the oldest. Equal keys keep
        # the order the secrets were created in (reversed with the rest for "desc").
        entries.sort(key=lambda entry: (entry.get(field) is not None, entry.get(field) or 0))
        if sort_order == "desc":
            entries.reverse()
        return self._get_secret_values_page_and_next_token(entries, max_results, next_token)

    # --- labels -----------------------------------------------------------------------------

    def _check_label_quota(self, secret: FaithfulSecret, adding: list[str]) -> None:
        """Refuse, before any change, a request that would leave more than 20 labels."""
        after = labels.labels_in_use(secret.versions)
        after.update(adding)
        if AWSCURRENT in adding and labels.holder(secret.versions, AWSCURRENT) is not None:
            after.add(AWSPREVIOUS)  # the version AWSCURRENT leaves gets AWSPREVIOUS
        if len(after) > MAX_STAGING_LABELS:
            raise too_many_labels(len(after))

    def update_secret_version_stage(
        self,
        secret_id: str,
        version_stage: str,
        remove_from_version_id: str | None,
        move_to_version_id: str | None,
    ) -> tuple[str, str]:
        secret = self.secret(secret_id)
        versions = secret.versions
        # Validate everything before changing anything: the call is atomic in AWS.
        for version_id in (remove_from_version_id, move_to_version_id):
            if version_id and version_id not in versions:
                raise InvalidParameterException(f"Not a valid version: {version_id}")
        current_holder = labels.holder(versions, version_stage)
        if remove_from_version_id and current_holder != remove_from_version_id:
            raise InvalidParameterException(
                f"The staging label {version_stage} is not attached to version "
                f"{remove_from_version_id}, so you can't remove it from that version."
            )
        if move_to_version_id:
            self._check_label_quota(secret, [version_stage])
            if current_holder not in (None, move_to_version_id) and not remove_from_version_id:
                raise InvalidParameterException(
                    f"The parameter RemoveFromVersionId can't be empty. Staging label {version_stage} "
                    f"is currently attached to version {current_holder}, so you must explicitly "
                    "reference that version in RemoveFromVersionId."
                )
            if version_stage == AWSCURRENT:
                labels.move_current(versions, move_to_version_id)
            else:
                labels.attach(versions, version_stage, move_to_version_id)
        elif remove_from_version_id:
            if version_stage == AWSCURRENT:
                raise InvalidParameterException(
                    "You can't remove the staging label AWSCURRENT without moving it: "
                    "pass MoveToVersionId as well."
                )
            labels.detach(versions, version_stage, remove_from_version_id)
        else:
            raise InvalidParameterException(
                "You must specify MoveToVersionId, RemoveFromVersionId, or both."
            )
        # AWS: LastChangedDate is when the secret "was modified in any way"; labels included.
        secret.last_changed_date = int(time.time())
        self._after_change(secret)
        return secret.arn, secret.name

    # --- deletion ---------------------------------------------------------------------------

    def delete_secret(
        self,
        secret_id: str,
        recovery_window_in_days: int | None,
        force_delete_without_recovery: bool,
    ) -> tuple[str, str, float]:
        result = super().delete_secret(
            secret_id, recovery_window_in_days, force_delete_without_recovery
        )
        secret = self.find_secret(secret_id)
        if secret is not None and secret.is_deleted():
            self.events.deletion_scheduled(secret)
        return result

    def restore_secret(self, secret_id: str) -> tuple[str, str]:
        secret = self.find_secret(secret_id)
        result = super().restore_secret(secret_id)
        if secret is not None:
            self.events.deletion_cancelled(secret)
        return result

    # --- housekeeping -------------------------------------------------------------------------

    def _after_change(self, secret: FaithfulSecret) -> None:
        """Keep moto's default version on AWSCURRENT and prune deprecated versions as AWS does."""
        secret.set_default_version_id(labels.holder(secret.versions, AWSCURRENT))
        self._prune(secret)

    def _prune(self, secret: FaithfulSecret) -> None:
        """Drop the unlabelled versions that are neither among the most recent ones (100 by
        default) nor created in the last 24 hours."""
        versions = secret.versions
        excess = len(versions) - active_world().config.version_retention
        if excess <= 0:
            return
        cutoff = int(time.time()) - _DAY_SECONDS
        if not versions.may_hold_created_by(cutoff):
            return  # every version is younger than a day: none can go (and none was looked at)
        older = list(itertools.islice(versions, excess))  # insertion order: oldest first
        removed = False
        for version_id in older:
            version = versions[version_id]
            if version["version_stages"] or version["createdate"] > cutoff:
                continue
            del versions[version_id]
            removed = True
        if not removed:
            # The bound on creation dates was too low to skip this look: make it exact, so that
            # the next calls skip it until a version is a day old.
            versions.earliest_created()

    def remove_version(self, secret: FaithfulSecret, version_id: str) -> None:
        secret.versions.pop(version_id, None)
        self._after_change(secret)


__all__ = ["FaithfulSecret", "FaithfulSecretsManagerBackend"]
