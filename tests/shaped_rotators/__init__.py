"""Rotators written the ways real Lambda code is: a package with relative imports, handlers that
are bound methods, callable objects, partials, decorated functions, and AWS Lambda Powertools.

Each module builds a client of the protected service at import (``client``), which the tests
replace with a fake. The correct ones must pass every contract check; the ``*_memory``,
``global_rebind`` and ``powertools_leak`` ones carry one bug each that a check must catch.
"""
