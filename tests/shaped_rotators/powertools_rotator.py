"""A rotator written with AWS Lambda Powertools: Logger with the Lambda context, and the event
validated by the parser (a pydantic model with a datetime field)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parser import BaseModel, Field, event_parser

from shaped_service import RealClient

from . import steps

logger = Logger(service="directory-rotator")
client = RealClient()


class RotationEvent(BaseModel):
    SecretId: str
    ClientRequestToken: str
    Step: Literal["createSecret", "setSecret", "testSecret", "finishSecret"]
    received_at: datetime = Field(default_factory=datetime.now)


@logger.inject_lambda_context
@event_parser(model=RotationEvent)
def lambda_handler(event: RotationEvent, context: Any) -> None:
    logger.info("rotation step", extra={"step": event.Step, "secret": event.SecretId})
    steps.rotate(event.model_dump(), client)
