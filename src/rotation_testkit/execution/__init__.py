"""Layer 3, execution: running the user's rotation function as Lambda would.

The Lambda registry and invocations (:mod:`.lambdas`, :mod:`.loader`), the hermetic sandbox and
moto's interception (:mod:`.sandbox`, :mod:`.world_mock`), the botocore handler that sends boto3's
calls to the active world (:mod:`.interception`), the fake clock (:mod:`.clock`), planned faults
(:mod:`.faults`) and the protected services a rotator talks to (:mod:`.protected_http`).

Functions run out of process, in any language: the world served over HTTP on loopback
(:mod:`.aws_endpoint`), the Lambda Runtime API (:mod:`.runtime_api`), one execution environment as
one process (:mod:`.environment`) and the registered command (:mod:`.commands`).
"""
