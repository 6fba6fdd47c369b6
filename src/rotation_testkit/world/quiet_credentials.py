"""The shared boto3 session finds its (fake) credentials once, without botocore saying so.

botocore logs "Found credentials in environment variables." at INFO the first time a session
looks for credentials. A rotator that sets the root logger to INFO, as AWS's templates do, lets
that line through, and it then lands in whatever happens to build the first client: a test's
captured log, or a function's logs in a failure report. The line says nothing about the rotator:
the credentials are the kit's own.
"""

from __future__ import annotations

import logging

from ..execution.sandbox import shared_session

_CREDENTIALS_LOGGER = logging.getLogger("botocore.credentials")


def resolve_credentials_quietly() -> None:
    """Look the shared session's credentials up now (botocore keeps them), with its log off."""
    was_disabled = _CREDENTIALS_LOGGER.disabled
    _CREDENTIALS_LOGGER.disabled = True
    try:
        shared_session().get_credentials()
    finally:
        _CREDENTIALS_LOGGER.disabled = was_disabled
