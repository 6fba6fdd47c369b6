"""Layer 1, foundations: pure rules and records that every other layer builds on.

Staging-label rules (:mod:`.labels`), rotation schedules and EventBridge cron (:mod:`.schedule`,
:mod:`.cron`), the event history (:mod:`.history`), a world's settings (:mod:`.config`) and the
catalogue of invariants (:mod:`.invariant_catalogue`). Nothing here imports moto, boto3 or pytest.
"""
