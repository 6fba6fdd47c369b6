"""Who may call the world's HTTP endpoint: requests signed (SigV4) with the run's own keys.

Each endpoint draws a random access key and secret key when it starts. A request is served only
when its signature, recomputed here by botocore's signer from the request as it arrived, equals the
one it carries; otherwise it gets the error AWS gives for an unknown key or a wrong signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials

_KEY_ALPHABET = string.ascii_uppercase + "234567"
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/,\s]+)/(?P<date>\d{8})/(?P<region>[^/,\s]+)/"
    r"(?P<service>[^/,\s]+)/aws4_request,\s*SignedHeaders=(?P<headers>[a-z0-9;_.-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
_HEX_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class EndpointCredentials:
    """The access key and secret key a client of one endpoint signs its requests with."""

    access_key_id: str
    secret_access_key: str

    @classmethod
    def generate(cls) -> EndpointCredentials:
        # Shaped like AWS's (AKIA + 16 characters; 40 characters), so every SDK accepts them.
        key = "AKIA" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
        secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
        return cls(key, secret)

    def __repr__(self) -> str:  # the secret key is not printed by accident
        return f"EndpointCredentials(access_key_id={self.access_key_id!r}, secret_access_key=***)"


class NotAuthenticated(Exception):
    """A request the endpoint refuses, with AWS's error code and message for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


UNKNOWN_KEY = NotAuthenticated(
    "UnrecognizedClientException", "The security token included in the request is invalid."
)
BAD_SIGNATURE = NotAuthenticated(
    "InvalidSignatureException",
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.",
)
MISSING_SIGNATURE = NotAuthenticated(
    "MissingAuthenticationTokenException", "Missing Authentication Token"
)


class _RecomputingSigner(SigV4Auth):
    """botocore's SigV4 signer, over exactly the headers the client says it signed."""

    def __init__(self, credentials: Credentials, service: str, region: str, signed: list[str]):
        super().__init__(credentials, service, region)
        self._signed = signed

    def headers_to_sign(self, request: Any) -> Any:
        headers = HTTPHeaders()
        for name in self._signed:
            value = request.headers.get(name)
            if value is None:
                raise BAD_SIGNATURE
            headers[name] = value
        return headers


class _RecomputingS3Signer(S3SigV4Auth, _RecomputingSigner):
    """S3 signs its path as sent (no double encoding) and its payload hash header."""


def verify_signature(
    environ: dict[str, Any], body: bytes, credentials: EndpointCredentials
) -> None:
    """Raise :class:`NotAuthenticated` unless the request is signed with ``credentials``."""
    authorization = str(environ.get("HTTP_AUTHORIZATION") or "")
    if not authorization:
        raise MISSING_SIGNATURE
    match = _AUTHORIZATION.match(authorization.strip())
    if match is None:
        raise BAD_SIGNATURE
    if not hmac.compare_digest(match["key"], credentials.access_key_id):
        raise UNKNOWN_KEY
    signed = match["headers"].split(";")
    timestamp = str(environ.get("HTTP_X_AMZ_DATE") or "")
    if "host" not in signed or not timestamp.startswith(match["date"]):
        raise BAD_SIGNATURE
    payload_hash = environ.get("HTTP_X_AMZ_CONTENT_SHA256")
    if (
        payload_hash is not None
        and _HEX_SHA256.match(payload_hash)
        and not hmac.compare_digest(payload_hash, hashlib.sha256(body).hexdigest())
    ):
        raise BAD_SIGNATURE
    request = AWSRequest(
        method=str(environ.get("REQUEST_METHOD", "GET")),
        url=f"http://{environ.get('HTTP_HOST', '')}{environ.get('RAW_URI') or '/'}",
        data=body,
        headers={name: value for name, value in _headers(environ).items() if name in signed},
    )
    request.context["timestamp"] = timestamp
    signer_class = _RecomputingS3Signer if match["service"] == "s3" else _RecomputingSigner
    signer = signer_class(
        Credentials(credentials.access_key_id, credentials.secret_access_key),
        match["service"],
        match["region"],
        signed,
    )
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        raise BAD_SIGNATURE


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers, lower-cased, as the client sent them (WSGI keeps them in environ)."""
    headers = {
        key[5:].lower().replace("_", "-"): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.lower().replace("_", "-")] = str(environ[key])
    return headers
