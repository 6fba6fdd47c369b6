"""Layer 3, execution: running the user's rotation function as Lambda would.

The Lambda registry and invocations (:mod:`.lambdas`, :mod:`.loader`), the hermetic sandbox and
moto's interception (:mod:`.sandbox`), the fake clock (:mod:`.clock`), planned faults
(:mod:`.faults`) and the protected services a rotator talks to (:mod:`.protected_http`).
"""
