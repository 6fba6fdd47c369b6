"""Layer 2, the simulated AWS: Secrets Manager as AWS runs it.

- :mod:`.backend` — the data plane: moto's backend corrected to AWS's label and version rules
  (with :mod:`.secret`, the secret model, and :mod:`.errors`, AWS's error texts).
- :mod:`.api` — the request layer every API call passes through (faults, history, invariants are
  reached from here) and which hands RotateSecret and CancelRotateSecret to the control plane;
  :mod:`.direct` — the road into it for boto3's calls that skips signing and HTTP emulation.
- :mod:`.rotation` — the rotation control plane: the RotateSecret flow, retries, abandonment,
  deletion windows; :mod:`.scheduler` — when each secret rotates next.
- :mod:`.ports` — the Protocols this layer needs from the world above, and the active-world lookup
  moto forces on us.
"""
