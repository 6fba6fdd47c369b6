"""AWS's own error codes and texts that moto lacks or words differently, in one place."""

from __future__ import annotations

from moto.secretsmanager.exceptions import (
    ResourceExistsException,
    ResourceNotFoundException,
    SecretsManagerClientError,
    ValidationException,
)

MARKED_FOR_DELETION = (
    "You can't perform this operation on the secret because it was marked for deletion."
)


class AccessDeniedException(SecretsManagerClientError):
    def __init__(self, message: str) -> None:
        super().__init__("AccessDeniedException", message)


def no_value(what: str) -> ResourceNotFoundException:
    """GetSecretValue found no value for ``what`` ("VersionId: ..." or "staging label: ...")."""
    return ResourceNotFoundException(
        f"Secrets Manager can't find the specified secret value for {what}"
    )


class LimitExceededException(SecretsManagerClientError):
    def __init__(self, message: str) -> None:
        super().__init__("LimitExceededException", message)


#: AWS's quota on the staging labels of one secret, across all its versions.
MAX_STAGING_LABELS = 20


def too_many_labels(labels: int) -> LimitExceededException:
    """The quota error for a change that would leave more than 20 labels on a secret."""
    return LimitExceededException(
        f"You can't attach more than {MAX_STAGING_LABELS} staging labels across the versions "
        f"of a secret; this request would leave {labels}. Remove labels you no longer need "
        "with UpdateSecretVersionStage first."
    )


def too_many_stages(stages: list[str]) -> ValidationException:
    """VersionStages longer than its model allows, in AWS's wording for a broken constraint."""
    return ValidationException(
        f"1 validation error detected: Value '{stages}' at 'versionStages' failed to satisfy "
        f"constraint: Member must have length less than or equal to {MAX_STAGING_LABELS}"
    )


def not_one_of(value: object, field: str, allowed: tuple[str, ...]) -> ValidationException:
    """A parameter outside its enumeration, in AWS's wording for a broken model constraint."""
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


def too_long(field: str, maximum: int) -> ValidationException:
    """A string parameter longer than its model allows, in AWS's wording."""
    return ValidationException(
        f"1 validation error detected: Value at '{field}' failed to satisfy constraint: "
        f"Member must have length less than or equal to {maximum}"
    )


def token_in_use(token: str, secret_arn: str) -> ResourceExistsException:
    """A ClientRequestToken that already names a version of the secret (AWS's wording)."""
    return ResourceExistsException(
        f"You can't use ClientRequestToken {token} because that value is already in use "
        f"for a version of secret {secret_arn}."
    )


#: AWS's quota on one secret value: SecretString (UTF-8) or SecretBinary (decoded), in bytes.
MAX_SECRET_VALUE_BYTES = 65_536


def value_too_large(fields: list[str]) -> ValidationException:
    """Values past the quota, in AWS's wording (which never quotes a secret value)."""
    count = len(fields)
    problems = "; ".join(
        f"Value at '{field}' failed to satisfy constraint: Member must have length less than or "
        f"equal to {MAX_SECRET_VALUE_BYTES}"
        for field in fields
    )
    noun = "error" if count == 1 else "errors"
    return ValidationException(f"{count} validation {noun} detected: {problems}")
