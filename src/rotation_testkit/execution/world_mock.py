"""moto's ``mock_aws`` as a world starts it: the same interception, a fraction of the set-up.

When moto starts, it registers one ``requests`` callback per AWS URL pattern and HTTP method (some
1,300 of them) so that code calling AWS through ``requests`` reaches it too. That was 40% of a
test's set-up. A world registers one callback per method instead, whose pattern is all of moto's
patterns at once, and hands a matching request to the same moto function those callbacks call.
Everything else (the botocore handler turned on, the backends reset, ``requests`` patched, the
nesting count that lets a user's own ``mock_aws`` run inside a world) is moto's own ``start``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from moto import backend_index
from moto.core.custom_responses_mock import CallbackResponse
from moto.core.models import RESPONSES_METHODS, MockAWS, botocore_stubber, responses_mock

# moto answers this for an AWS URL no service of it serves.
_ANY_AWS_URL = r"https?://.+\.amazonaws.com/.*"


@functools.cache
def aws_urls() -> re.Pattern[str]:
    """Every URL moto answers, as one pattern (compiled once per process)."""
    patterns = [pattern.pattern for _, pattern in backend_index.backend_url_patterns]
    return re.compile("|".join(f"(?:{p})" for p in [*patterns, _ANY_AWS_URL]))


def _answer_aws_call(request: Any) -> Any:
    answer = botocore_stubber.process_prepared_request(request)
    return answer if answer is not None else (404, {}, "Not yet implemented")


class WorldMock(MockAWS):
    def _enable_patching(self, reset: bool = True) -> None:
        botocore_stubber.enabled = True
        if reset:
            self.reset()
        responses_mock.start()
        urls = aws_urls()
        for method in RESPONSES_METHODS:
            responses_mock.add(CallbackResponse(method=method, url=urls, callback=_answer_aws_call))
