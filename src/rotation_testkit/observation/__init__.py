"""Layer 4, observation: judging what happened.

The invariants checked after every API call and step (:mod:`.invariants`) and the timeline of
each rotation (:mod:`.timeline`).
"""
