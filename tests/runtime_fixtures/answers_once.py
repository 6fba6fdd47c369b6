"""A runtime client that answers one event and then stops asking for more (but stays alive)."""

import json
import os
import time
import urllib.request

BASE = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime"

with urllib.request.urlopen(f"{BASE}/invocation/next", timeout=60) as response:
    request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
    response.read()
answer = urllib.request.Request(
    f"{BASE}/invocation/{request_id}/response", data=json.dumps("done").encode(), method="POST"
)
with urllib.request.urlopen(answer, timeout=60) as response:
    response.read()
time.sleep(600)
