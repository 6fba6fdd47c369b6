"""AWS's own error codes and texts that moto lacks or words differently, in one place."""

from __future__ import annotations

from moto.secretsmanager.exceptions import (
    ResourceExistsException,
    ResourceNotFoundException,
    SecretsManagerClientError,
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


def token_in_use(token: str, secret_arn: str) -> ResourceExistsException:
    """A ClientRequestToken that already names a version of the secret (AWS's wording)."""
    return ResourceExistsException(
        f"You can't use ClientRequestToken {token} because that value is already in use "
        f"for a version of secret {secret_arn}."
    )
