"""The saved state: describe-secret and list-secret-version-ids output, checked and normalised.

:func:`parse_saved_state` turns the parsed JSON (or boto3's responses) into a :class:`SavedSecret`
and raises :class:`UnreadableInput`, with a message saying how to save the right output, for
anything else. Nothing here reads or keeps a secret's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .dates import parse_date

AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"
AWSPREVIOUS = "AWSPREVIOUS"

SAVE_COMMAND = "aws secretsmanager describe-secret --secret-id NAME --output json > state.json"
SAVE_HINT = "Save it with: " + SAVE_COMMAND
# Keys only DescribeSecret returns (list-secret-version-ids returns ARN, Name and Versions).
_DESCRIBE_KEYS = (
    "VersionIdsToStages",
    "SecretVersionsToStages",  # the same map, as list-secrets names it
    "RotationEnabled",
    "RotationLambdaARN",
    "RotationRules",
    "LastRotatedDate",
    "LastChangedDate",
    "LastAccessedDate",
    "NextRotationDate",
    "DeletedDate",
    "CreatedDate",
    "KmsKeyId",
    "OwningService",
    "PrimaryRegion",
)
_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):")


class UnreadableInput(ValueError):
    """The input is not saved describe-secret (or list-secret-version-ids) output.

    The message says what is wrong and how to save the right output.
    """


@dataclass
class SavedVersion:
    """One version as the saved outputs show it (never its value)."""

    version_id: str
    labels: list[str] = field(default_factory=list)
    created: datetime | None = None
    last_accessed: datetime | None = None
    #: Listed by list-secret-version-ids, which lists only versions that hold a value.
    listed: bool = False


@dataclass
class SavedSecret:
    """What describe-secret (and list-secret-version-ids) said about one secret."""

    arn: str | None
    name: str | None
    versions: dict[str, SavedVersion]
    rotation_enabled: bool | None = None
    rotation_lambda_arn: str | None = None
    rotation_rules: dict[str, Any] | None = None
    created: datetime | None = None
    last_changed: datetime | None = None
    last_rotated: datetime | None = None
    next_rotation: datetime | None = None
    deleted: datetime | None = None
    owning_service: str | None = None
    #: The customer managed KMS key that encrypts the secret (None: the AWS managed key).
    kms_key_id: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    #: A list-secret-version-ids output was given.
    versions_listed: bool = False
    #: ... and it was complete (no NextToken), so a version it lacks holds no value.
    listing_complete: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def secret_id(self) -> str:
        """The identifier to pass to the AWS CLI: the ARN if known, else the name."""
        return self.arn or self.name or "SECRET"

    @property
    def display_name(self) -> str:
        return self.name or self.arn or "(unnamed secret)"

    @property
    def region(self) -> str | None:
        match = _ARN_REGION.match(self.arn or "")
        return match.group(1) if match else None

    @property
    def managed_by(self) -> str | None:
        """The infrastructure tool the tags show manages the secret, if any."""
        keys = {key.lower(): value.lower() for key, value in self.tags.items()}
        if any(key.startswith("aws:cloudformation:") for key in keys):
            return "CloudFormation"
        if any("terraform" in key or "terraform" in value for key, value in keys.items()):
            return "Terraform"
        if any("pulumi" in key or "pulumi" in value for key, value in keys.items()):
            return "Pulumi"
        return None

    def holders(self, label: str) -> list[str]:
        return [vid for vid, v in self.versions.items() if label in v.labels]

    def has_value(self, version_id: str) -> bool | None:
        """True or False when the saved outputs tell, None when they cannot."""
        version = self.versions.get(version_id)
        if version is None:
            return None
        if version.listed:
            return True
        if self.versions_listed and self.listing_complete:
            return False
        return None


def parse_saved_state(
    described: Mapping[str, Any], versions: Mapping[str, Any] | None = None
) -> SavedSecret:
    """Normalise describe-secret output (and list-secret-version-ids output) into a SavedSecret.

    ``described`` may also be one object holding both (describe-secret's keys plus ``Versions``).
    Dates may be ISO 8601 strings, epoch numbers or ``datetime`` objects. Raises UnreadableInput.
    """
    if not isinstance(described, Mapping):
        raise UnreadableInput(
            f"expected describe-secret output (a JSON object), got {kind_of(described)}. "
            + SAVE_HINT
        )
    if versions is None and "Versions" in described:
        versions = described
    require_describe(described, "the input")
    notes: list[str] = []
    arn = _optional_str(described, "ARN")
    name = _optional_str(described, "Name")
    saved_versions: dict[str, SavedVersion] = {}
    stages = described.get("VersionIdsToStages", described.get("SecretVersionsToStages"))
    if stages is not None:
        if not isinstance(stages, Mapping) or not all(
            isinstance(vid, str) and _is_label_list(labels) for vid, labels in stages.items()
        ):
            raise UnreadableInput(
                "VersionIdsToStages is not an object mapping version ids to lists of staging "
                "labels, as describe-secret prints it. " + SAVE_HINT
            )
        for vid, labels in stages.items():
            saved_versions[vid] = SavedVersion(vid, list(labels))
    versions_listed = listing_complete = False
    if versions is not None:
        entries = _version_entries(versions, arn, name)
        versions_listed = True
        listing_complete = not versions.get("NextToken")
        if not listing_complete:
            notes.append(
                "The list-secret-version-ids output has a NextToken: it is one page of several, "
                "so a version missing from it may still hold a value."
            )
        for entry in entries:
            vid = entry["VersionId"]
            labels = list(entry.get("VersionStages") or [])
            version = saved_versions.get(vid)
            if version is None:
                version = saved_versions[vid] = SavedVersion(vid, labels if stages is None else [])
                if stages is not None and labels:
                    notes.append(
                        f"list-secret-version-ids shows {'+'.join(labels)} on {vid}, which "
                        "describe-secret does not list: the two outputs were saved at different "
                        "times. This diagnosis uses describe-secret's labels."
                    )
            elif sorted(labels) != sorted(version.labels):
                notes.append(
                    f"The two outputs disagree about the labels of {vid} "
                    f"(describe-secret: {'+'.join(version.labels) or 'none'}; "
                    f"list-secret-version-ids: {'+'.join(labels) or 'none'}): they were saved at "
                    "different times. This diagnosis uses describe-secret's labels."
                )
            version.listed = True
            version.created = _date(entry, "CreatedDate", notes, where=f"version {vid}")
            version.last_accessed = _date(entry, "LastAccessedDate", notes, where=f"version {vid}")
    enabled = described.get("RotationEnabled")
    rules = described.get("RotationRules")
    kms_key_id = _optional_str(described, "KmsKeyId")
    if kms_key_id in ("alias/aws/secretsmanager", ""):
        kms_key_id = None
    return SavedSecret(
        arn=arn,
        name=name,
        versions=saved_versions,
        rotation_enabled=enabled if isinstance(enabled, bool) else None,
        rotation_lambda_arn=_optional_str(described, "RotationLambdaARN") or None,
        rotation_rules=dict(rules) if isinstance(rules, Mapping) else None,
        created=_date(described, "CreatedDate", notes),
        last_changed=_date(described, "LastChangedDate", notes),
        last_rotated=_date(described, "LastRotatedDate", notes),
        next_rotation=_date(described, "NextRotationDate", notes),
        deleted=_date(described, "DeletedDate", notes),
        owning_service=_optional_str(described, "OwningService") or None,
        kms_key_id=kms_key_id,
        tags=_tags(described.get("Tags")),
        versions_listed=versions_listed,
        listing_complete=listing_complete,
        notes=notes,
    )


def _tags(value: object) -> dict[str, str]:
    """The Tags list of describe-secret output, as a dict (entries that are not tags are skipped)."""
    tags: dict[str, str] = {}
    if isinstance(value, list):
        for entry in value:
            if isinstance(entry, Mapping) and isinstance(entry.get("Key"), str):
                tag_value = entry.get("Value")
                tags[entry["Key"]] = tag_value if isinstance(tag_value, str) else ""
    return tags


def has_describe_fields(document: Mapping[str, Any]) -> bool:
    """Whether the document has a field only describe-secret output has."""
    return any(key in document for key in _DESCRIBE_KEYS)


def require_describe(document: Mapping[str, Any], where: str) -> None:
    """Raise UnreadableInput, naming ``where``, unless the document is describe-secret output."""
    for key in ("SecretString", "SecretBinary"):
        if key in document:
            raise UnreadableInput(
                f"{where} is get-secret-value output, which contains the secret's value: delete "
                "it, and save describe-secret output instead (it holds no value). " + SAVE_HINT
            )
    if "SecretList" in document:
        raise UnreadableInput(
            f"{where} is list-secrets output; diagnose needs the describe-secret output of one "
            "secret. " + SAVE_HINT
        )
    has_id = isinstance(document.get("ARN"), str) or isinstance(document.get("Name"), str)
    if not has_id or not has_describe_fields(document):
        if has_id and "Versions" in document:
            raise UnreadableInput(
                f"{where} is list-secret-version-ids output only; diagnose also needs the "
                "secret's describe-secret output, before it (in the same file or as the first "
                "file). " + SAVE_HINT
            )
        raise UnreadableInput(
            f"{where} is not describe-secret output: it lacks "
            + ("ARN and Name" if not has_id else "VersionIdsToStages and the rotation fields")
            + ". "
            + SAVE_HINT
        )


def _version_entries(
    versions: Mapping[str, Any], arn: str | None, name: str | None
) -> list[Mapping[str, Any]]:
    if not isinstance(versions, Mapping) or not isinstance(versions.get("Versions"), list):
        raise UnreadableInput(
            "the version list is not list-secret-version-ids output (an object with a "
            "'Versions' list). Save it with: aws secretsmanager list-secret-version-ids "
            "--secret-id NAME --include-deprecated --output json > versions.json"
        )
    other_arn, other_name = versions.get("ARN"), versions.get("Name")
    if (arn and isinstance(other_arn, str) and other_arn != arn) or (
        name and isinstance(other_name, str) and other_name != name
    ):
        raise UnreadableInput(
            f"the list-secret-version-ids output is for {other_name or other_arn}, but the "
            f"describe-secret output is for {name or arn}: save both for the same secret."
        )
    entries: list[Mapping[str, Any]] = []
    for entry in versions["Versions"]:
        if (
            not isinstance(entry, Mapping)
            or not isinstance(entry.get("VersionId"), str)
            or not _is_label_list(entry.get("VersionStages") or [])
        ):
            raise UnreadableInput(
                "an entry of 'Versions' lacks a VersionId or has VersionStages that are not a "
                "list of labels: is this list-secret-version-ids output?"
            )
        entries.append(entry)
    return entries


def _is_label_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(label, str) for label in value)


def _optional_str(document: Mapping[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) else None


def kind_of(value: object) -> str:
    """What a parsed JSON value is, for messages (never the value itself)."""
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if value is None:
        return "null"
    return f"a JSON {type(value).__name__}"


def _date(
    document: Mapping[str, Any], key: str, notes: list[str], *, where: str = ""
) -> datetime | None:
    """The date under ``key``; None, with a note, when it cannot be read."""
    try:
        return parse_date(document.get(key))
    except (ValueError, OverflowError, OSError):
        notes.append(f"Could not read {key}{' of ' + where if where else ''}; it was ignored.")
        return None
