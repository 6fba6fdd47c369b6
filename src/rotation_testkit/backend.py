"""moto's Secrets Manager backend, corrected where it differs from AWS.

Each override below fixes one documented difference (see docs/faithfulness.md); everything else is
moto's. The rotation flow itself lives in :mod:`rotation_testkit.service`: this module keeps the
data model (versions, labels, dates) right and hands RotateSecret and CancelRotateSecret over.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from moto.secretsmanager.exceptions import (
    InvalidParameterException,
    InvalidRequestException,
    OperationNotPermittedOnReplica,
    ResourceExistsException,
    ResourceNotFoundException,
    SecretNotFoundException,
    SecretsManagerClientError,
)
from moto.secretsmanager.models import FakeSecret, ReplicaSecret, SecretsManagerBackend

from . import labels
from .labels import AWSCURRENT, AWSPENDING
from .runtime import active_world

if TYPE_CHECKING:
    from .world import World

MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)
_DAY_SECONDS = 24 * 60 * 60


class AccessDeniedException(SecretsManagerClientError):
    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


def no_value(what: str) -> ResourceNotFoundException:
    """GetSecretValue found no value for ``what`` ("VersionId: ..." or "staging label: ...")."""
    return ResourceNotFoundException(
        f"Secrets Manager can't find the specified secret value for {what}"
    )


def token_in_use(token: str, secret_arn: str) -> ResourceExistsException:
    """A ClientRequestToken that already names a version of the secret (AWS's wording)."""
    return ResourceExistsException(
        f"You can't use ClientRequestToken {token} because that value is already in use "
        f"for a version of secret {secret_arn}."
    )


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


class FaithfulSecretsManagerBackend(SecretsManagerBackend):
    """The backend moto builds for every account and region while a world is active."""

    @property
    def urls(self) -> dict[str, Any]:
        # Route requests through our response class, which adds faults, history and the
        # operations whose parameters moto's responses drop.
        from .responses import FaithfulSecretsManagerResponse

        return {url: FaithfulSecretsManagerResponse.dispatch for url in super().urls}

    @property
    def _url_module(self) -> Any:
        # moto derives the URL module from the backend's module name; ours lives elsewhere.
        import moto.secretsmanager.urls

        return moto.secretsmanager.urls

    @property
    def world(self) -> World:
        return active_world()

    # --- lookups ---------------------------------------------------------------------------

    def secret(self, secret_id: str, *, allow_deleted: bool = False) -> FaithfulSecret:
        """The primary secret a name, ARN or partial ARN designates."""
        if not secret_id or not self._is_valid_identifier(secret_id):
            raise SecretNotFoundException()
        secret = self.secrets[secret_id]
        if isinstance(secret, ReplicaSecret):
            raise OperationNotPermittedOnReplica
        if not isinstance(secret, FaithfulSecret):
            secret.__class__ = FaithfulSecret
        if secret.is_deleted() and not allow_deleted:
            raise InvalidRequestException(MARKED_FOR_DELETION)
        assert isinstance(secret, FaithfulSecret)
        return secret

    def find_secret(self, secret_id: str) -> FaithfulSecret | None:
        try:
            return self.secret(secret_id, allow_deleted=True)
        except SecretsManagerClientError:
            return None

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
        stages = list(dict.fromkeys(stages))
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
            self.world.service.on_new_current_value(secret)
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
        version["last_accessed"] = int(time.time()) // _DAY_SECONDS * _DAY_SECONDS
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
        for version_id, version in reversed(list(secret.versions.items())):
            if not version["version_stages"] and not include_deprecated:
                continue
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

    # --- labels -----------------------------------------------------------------------------

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
        self._after_change(secret)
        return secret.arn, secret.name

    # --- rotation API, handed to the service ----------------------------------------------------

    def rotate_secret(
        self,
        secret_id: str,
        client_request_token: str | None = None,
        rotation_lambda_arn: str | None = None,
        rotation_rules: dict[str, Any] | None = None,
        rotate_immediately: bool = True,
    ) -> str:
        secret = self.secret(secret_id)
        token = self._from_client_request_token(client_request_token)
        self.world.service.rotate(
            self,
            secret,
            token=token,
            lambda_arn=rotation_lambda_arn,
            rules=rotation_rules,
            rotate_immediately=rotate_immediately,
        )
        return json.dumps({"ARN": secret.arn, "Name": secret.name, "VersionId": token})

    def cancel_rotate_secret(self, secret_id: str) -> str:
        secret = self.secret(secret_id)
        if not secret.rotation_lambda_arn:
            raise InvalidRequestException(
                "You tried to enable rotation on a secret that doesn't already have a Lambda "
                "function ARN configured and you didn't include such an ARN as a parameter in this call."
            )
        pending = self.world.service.cancel(secret)
        result: dict[str, Any] = {"ARN": secret.arn, "Name": secret.name}
        if pending:
            result["VersionId"] = pending
        return json.dumps(result)

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
            self.world.service.deletion_scheduled(secret)
        return result

    def restore_secret(self, secret_id: str) -> tuple[str, str]:
        secret = self.find_secret(secret_id)
        result = super().restore_secret(secret_id)
        if secret is not None:
            self.world.service.deletion_cancelled(secret)
        return result

    # --- housekeeping -------------------------------------------------------------------------

    def _after_change(self, secret: FaithfulSecret) -> None:
        """Keep moto's default version on AWSCURRENT and prune deprecated versions as AWS does."""
        secret.set_default_version_id(labels.holder(secret.versions, AWSCURRENT))
        self._prune(secret)

    def _prune(self, secret: FaithfulSecret) -> None:
        keep_recent = self.world.config.version_retention
        cutoff = int(time.time()) - _DAY_SECONDS
        order = list(secret.versions)  # insertion order: oldest first
        recent = set(order[-keep_recent:])
        for version_id in order:
            version = secret.versions[version_id]
            if version["version_stages"] or version_id in recent or version["createdate"] > cutoff:
                continue
            del secret.versions[version_id]

    def remove_version(self, secret: FaithfulSecret, version_id: str) -> None:
        secret.versions.pop(version_id, None)
        self._after_change(secret)


__all__ = [
    "AWSCURRENT",
    "AWSPENDING",
    "AccessDeniedException",
    "FaithfulSecret",
    "FaithfulSecretsManagerBackend",
]
