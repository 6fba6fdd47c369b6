"""Bug: every step catches every exception, logs it and returns.

The intent is "never let the Lambda fail". But a step that returns tells Secrets Manager it
succeeded, so the rotation goes on: when setSecret could not apply the new password, testSecret's
refusal is swallowed too, and finishSecret makes a password the database refuses AWSCURRENT. When
createSecret could not store the new value, finishSecret makes the empty version AWSCURRENT, and
applications can no longer read the secret at all.
"""

from __future__ import annotations

import logging
from typing import Any

from rotator import STEPS, run_step

logger = logging.getLogger(__name__)


def lambda_handler(event: dict[str, Any], context: Any) -> None:
    try:
        run_step(event, STEPS)
    except Exception:
        # BUG: the failure is logged, and the step reported as a success.
        logger.exception("%s failed for %s", event["Step"], event["SecretId"])
