"""What the whole repository's test run shares: tests/ and examples/ alike.

Several tests run pytest inside pytest (``pytester``) to check what a user would see. Those inner
sessions run their generated tests in file order: random-order plugins are for this suite, not for
the small files a test writes, whose expected output lists tests in order.
"""

from __future__ import annotations

import pytest

# Imported once here, before any inner pytest session: pytester removes the modules an in-process
# session imported for the first time when it ends, and a second import of requests would make
# new classes that the first one's objects (moto's HTTP mock holds some) do not match ("You can
# only merge into CookieJar").
import requests  # noqa: F401

pytest_plugins = ["pytester"]


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # pytester clears PYTEST_ADDOPTS when it starts; set it again for the inner sessions, which
    # read it whether they run in this process or in a subprocess.
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly")
    return pytester
