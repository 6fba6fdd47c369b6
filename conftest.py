"""What the whole repository's test run shares: tests/ and examples/ alike.

Several tests run pytest inside pytest (``pytester``) to check what a user would see. Those inner
sessions run their generated tests in file order: random-order plugins are for this suite, not for
the small files a test writes, whose expected output lists tests in order.
"""

from __future__ import annotations

import importlib
import pkgutil

import freezegun  # noqa: F401
import hypothesis  # noqa: F401
import pytest
import requests  # noqa: F401

import rotation_testkit

# Imported once here, before any inner pytest session: pytester removes the modules an in-process
# session imported for the first time when it ends, and importing one again makes new classes that
# the objects of the first import do not match (requests: "You can only merge into CookieJar";
# freezegun's or the kit's own classes: an isinstance that fails). It also costs: hypothesis's
# pytest plugin imports hypothesis at the end of every session, which took over a second each
# time (its modules are assertion-rewritten) when every inner session imported it afresh. So the
# kit's modules, and the libraries it and the plugins import lazily, are loaded before any inner
# session starts.
for _module in pkgutil.walk_packages(rotation_testkit.__path__, "rotation_testkit."):
    if not _module.name.endswith("__main__"):  # that one runs the command line
        importlib.import_module(_module.name)

pytest_plugins = ["pytester"]


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # pytester clears PYTEST_ADDOPTS when it starts; set it again for the inner sessions, which
    # read it whether they run in this process or in a subprocess. They use no hypothesis, whose
    # plugin would import it at the end of every subprocess session (a second or more each).
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:randomly -p no:hypothesispytest")
    return pytester
