"""The protected service of the test rotators: a user table (username -> password).

It lives apart from the rotators in ``rotators.py``, as a database lives apart from a Lambda
function: a cold start imports the rotator's module afresh, and the table keeps its users.
"""

from __future__ import annotations

USERS: dict[str, str] = {}
