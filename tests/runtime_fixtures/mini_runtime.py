"""A minimal Lambda runtime interface client, for tests of the Runtime API without AWS's clients.

    python mini_runtime.py module.function

It does what every runtime interface client does: load the handler (reporting a failure to
/runtime/init/error), then loop on /invocation/next and answer each event with /response or /error.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
import types
import urllib.request
from typing import Any

BASE = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"


def post(path: str, body: Any, headers: dict[str, str] | None = None) -> None:
    request = urllib.request.Request(
        BASE + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def main() -> None:
    sys.path.insert(0, os.getcwd())
    module_name, function_name = sys.argv[1].rsplit(".", 1)
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:
        post(
            "/init/error",
            {"errorType": "Runtime.ImportModuleError", "errorMessage": f"{error}"},
            {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"},
        )
        sys.exit(1)
    while True:
        with urllib.request.urlopen(BASE + "/invocation/next") as response:
            event = json.loads(response.read())
            headers = dict(response.headers)
        request_id = headers["Lambda-Runtime-Aws-Request-Id"]
        context = types.SimpleNamespace(aws_request_id=request_id, headers=headers)
        try:
            result = handler(event, context)
        except Exception as error:
            post(
                f"/invocation/{request_id}/error",
                {
                    "errorType": type(error).__name__,
                    "errorMessage": str(error),
                    "stackTrace": traceback.format_tb(error.__traceback__),
                },
            )
        else:
            post(f"/invocation/{request_id}/response", result)


if __name__ == "__main__":
    main()
