"""Secrets Manager calls from boto3 clients, answered without HTTP (the direct path).

A client talking to the in-memory service needs no signature, no HTTP request built and parsed
again, and no search for its service among the URL patterns of every AWS service. On the direct
path the request layer (:class:`.api.DirectSecretsManagerResponse`) gets the operation name and the
parameters botocore has already serialised, and its answer goes back to botocore as the HTTP
response moto would have sent, which botocore parses as it parses AWS's answers. botocore's retry
rules still decide whether a failed call is tried again, and its sleep between tries is the one the
fake clock replaces.

Only requests moto itself would answer take this path: those addressed to Secrets Manager's AWS
endpoint (a client pointed at another endpoint, such as ``rotation-testkit serve`` on loopback,
still goes over HTTP), and only while moto's IAM authorisation is off.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import time
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.endpoint import convert_to_response_dict
from botocore.model import OperationModel
from botocore.parsers import ResponseParser, create_parser
from moto import settings as moto_settings
from moto.core.botocore_stubber import MockRawResponse
from moto.core.responses import BaseResponse
from moto.core.utils import get_equivalent_url_in_aws_domain
from moto.secretsmanager.urls import url_bases
from werkzeug.exceptions import HTTPException

from .api import DirectSecretsManagerResponse

_SERVICE_URL = re.compile("|".join(url_bases))
_NO_ACCESS_KEY = "AKIAEXAMPLE"  # what moto assumes for an unsigned request

Answer = tuple[AWSResponse, dict[str, Any]]


def answer(
    model: OperationModel,
    request: dict[str, Any],
    request_signer: Any,
    also_for: tuple[str, ...] = (),
) -> Answer | None:
    """Answer one Secrets Manager call, retries included; None leaves it to moto over HTTP.

    ``request`` is the request dict botocore built (URL, headers, JSON body, context);
    ``request_signer`` is the client's, which carries its credentials and its event emitter.
    ``also_for``: other endpoint URLs whose requests are answered too, in the client's region
    (the endpoint of the user's own environment, which a client built before the test kept).
    """
    url = request["url"]
    region = region_of(url)
    if region is None and any(url == base or url.startswith(base + "/") for base in also_for):
        region = str(request_signer._region_name)
        url = f"https://secretsmanager.{region}.amazonaws.com/"
    if region is None or not math.isinf(moto_settings.INITIAL_NO_AUTH_ACTION_COUNT):
        return None
    body = request.get("body") or b"{}"
    parameters = json.loads(body)
    account_id = _account_id(request.get("headers") or {}, request_signer)
    emitter = request_signer._event_emitter
    retries = request["context"].setdefault("retries", {})
    attempts = 1
    while True:
        retries["attempt"] = attempts
        http, parsed = _respond(model, url, parameters, region, account_id, emitter)
        if not _needs_retry(emitter, model, request, (http, parsed), attempts):
            break
        attempts += 1
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = attempts - 1
    return http, parsed


@functools.lru_cache(maxsize=256)
def region_of(url: str) -> str | None:
    """The region of a Secrets Manager endpoint URL as moto reads it; None if moto would not
    answer requests sent there."""
    equivalent, _ = get_equivalent_url_in_aws_domain(url)
    if not _SERVICE_URL.match(f"{equivalent.scheme}://{equivalent.netloc}{equivalent.path}"):
        return None
    found = BaseResponse.region_regex.search(url)
    return found.group(1) if found else None


def _account_id(headers: Any, request_signer: Any) -> str:
    # In moto's order: the environment, a header, then the account of the access key.
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if "x-moto-account-id" in headers:
        return str(headers["x-moto-account-id"])
    from moto.iam.models import get_account_id_from

    credentials = request_signer._credentials
    access_key = credentials.access_key if credentials is not None else _NO_ACCESS_KEY
    return get_account_id_from(access_key or _NO_ACCESS_KEY)


def _respond(
    model: OperationModel,
    url: str,
    parameters: dict[str, Any],
    region: str,
    account_id: str,
    emitter: Any,
) -> Answer:
    layer = DirectSecretsManagerResponse(
        model.name, parameters, region=region, account_id=account_id
    )
    headers: Any
    try:
        status, headers, body = layer.call_action()
    except HTTPException as error:
        # A planned fault, refused before the operation ran: answered as moto answers it.
        status, headers, body = error.code or 500, error.get_headers(), error.get_body()
    http = AWSResponse(url, status, headers, MockRawResponse(body))
    response = convert_to_response_dict(http, model)
    service_id = model.service_model.service_id.hyphenize()
    customized: dict[str, Any] = {}
    emitter.emit(
        f"before-parse.{service_id}.{model.name}",
        operation_model=model,
        response_dict=response,
        customized_response_dict=customized,
    )
    parser = _parser(model.service_model.resolved_protocol)
    output: Any = model.output_shape  # None for an operation without output: parsed as {}
    parsed: dict[str, Any] = parser.parse(response, output)
    parsed.update(customized)
    if status >= 300:
        # As botocore does: the error's modeled fields (e.g. Message) at the top level too.
        code = parsed.get("Error", {}).get("Code")
        shape = model.service_model.shape_for_error_code(code) if code else None
        if shape is not None:
            parsed.update(parser.parse(response, shape))
    return http, parsed


def _needs_retry(
    emitter: Any, model: OperationModel, request: dict[str, Any], answer: Answer, attempts: int
) -> bool:
    """Ask the client's retry handler, as botocore's endpoint does; sleep as it says."""
    service_id = model.service_model.service_id.hyphenize()
    responses = emitter.emit(
        f"needs-retry.{service_id}.{model.name}",
        response=answer,
        endpoint=None,
        operation=model,
        attempts=attempts,
        caught_exception=None,
        request_dict=request,
    )
    delay = next((r for r in responses if r[1] is not None), (None, None))[1]
    if delay is None or delay is False:
        return False
    time.sleep(delay)
    return True


@functools.cache
def _parser(protocol: str) -> ResponseParser:
    return create_parser(protocol)
