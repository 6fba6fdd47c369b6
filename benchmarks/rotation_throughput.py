"""Rotations per second: rotation-testkit's RotateSecret versus the same rotation hand-driven on moto.

Both variants run the same rotator unmodified: the example rotator
(examples/password_rotator/rotator.py, a client per step and a toy database) and a minimal one
(``_minimal_rotator.py``, one client built at import time); ``--rotator`` picks one.

- ``rotation-testkit``: ``client.rotate_secret(SecretId=...)`` in a loop; the service creates the
  AWSPENDING placeholder, invokes the four steps with AWS's event, removes AWSPENDING afterwards,
  and records everything in the history.
- ``moto, hand-driven``: what a test on plain moto does instead (see ``_rotation.hand_rotation``):
  the script stores the new password as AWSPENDING, calls the four steps itself and removes
  AWSPENDING. Both variants make the same API calls per rotation (printed below).

Rotations run in batches, alternating between the variants, each batch in a fresh world / mock, so
a change in machine load affects both alike.

Run: ``.venv/bin/python benchmarks/rotation_throughput.py [--quick] [--json PATH] [--profile]
[--rotator example|minimal]``.
"""

from __future__ import annotations

import cProfile
import pstats
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import _common
import _rotation
import boto3
from _common import REGION, Timer, median, ms, p90, print_table, ratio
from _rotation import SECRET_NAME, Rotator, hand_rotation
from moto import mock_aws

from rotation_testkit.world import World

NAME = "rotation_throughput"


class BatchResult:
    def __init__(self) -> None:
        self.timer = Timer()
        self.api_calls: Counter[str] = Counter()


@contextmanager
def clients_cached_per_world() -> Iterator[None]:
    """An experiment, not a feature: every ``Session.client(...)`` call with the same arguments
    returns the client built first. It shows what caching clients per world would save; it is
    unsafe as a feature (a handler or a botocore Stubber attached to one client would then act on
    every client the test builds)."""
    original = boto3.session.Session.client
    cache: dict[str, Any] = {}

    def cached(self: Any, *args: Any, **kwargs: Any) -> Any:
        key = repr((args, sorted(kwargs.items())))
        if key not in cache:
            cache[key] = original(self, *args, **kwargs)
        return cache[key]

    boto3.session.Session.client = cached  # type: ignore[method-assign]
    try:
        yield
    finally:
        boto3.session.Session.client = original  # type: ignore[method-assign]


def kit_batch(
    rotator: Rotator,
    rotations: int,
    profile: cProfile.Profile | None = None,
    *,
    cached_clients: bool = False,
) -> BatchResult:
    result = BatchResult()
    _rotation.reset_database()
    world = World()
    with world.activate(), clients_cached_per_world() if cached_clients else nullcontext():
        client = _rotation.kit_setup(world, 30, rotator.handler)  # the first one is not timed
        if profile is not None:
            profile.enable()
        for _ in range(rotations):
            with result.timer.measure():
                client.rotate_secret(SecretId=SECRET_NAME)
        if profile is not None:
            profile.disable()
        with _common.counting_api_calls() as calls:
            client.rotate_secret(SecretId=SECRET_NAME)
        result.api_calls.update(calls)
        succeeded = len(world.history.events("RotationSucceeded"))
        failed = len(world.history.events("RotationFailed"))
        if succeeded != rotations + 2 or failed:
            raise SystemExit(f"rotation-testkit: {succeeded} rotations succeeded, {failed} failed")
        _rotation.check_database(client, "rotation-testkit", rotator.name)
    return result


def moto_batch(rotator: Rotator, rotations: int) -> BatchResult:
    result = BatchResult()
    _rotation.reset_database()
    with _rotation.lambda_environment(), mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arn = _rotation.moto_setup(client)
        hand_rotation(client, arn, rotator.handler)  # the same untimed first rotation
        for _ in range(rotations):
            with result.timer.measure():
                hand_rotation(client, arn, rotator.handler)
        with _common.counting_api_calls() as calls:
            hand_rotation(client, arn, rotator.handler)
        result.api_calls.update(calls)
        _rotation.check_database(client, "moto", rotator.name)
    return result


def summarize(batches: list[BatchResult]) -> dict[str, Any]:
    walls = [w for b in batches for w in b.timer.walls()]
    cpus = [c for b in batches for c in b.timer.cpus()]
    return {
        "rotations": len(walls),
        "per_rotation_median_s": median(walls),
        "per_rotation_p90_s": p90(walls),
        "per_rotation_cpu_median_s": median(cpus),
        "rotations_per_s": len(walls) / sum(walls),
        "rotations_per_cpu_s": len(cpus) / sum(cpus),
        "api_calls_per_rotation": dict(batches[-1].api_calls),
    }


def compare(rotator: Rotator, rounds: int, batch: int, cached_clients: bool) -> dict[str, Any]:
    kit_batches: list[BatchResult] = []
    moto_batches: list[BatchResult] = []
    cached_batches: list[BatchResult] = []
    for round_ in range(rounds):
        if round_ % 2 == 0:
            kit_batches.append(kit_batch(rotator, batch))
            moto_batches.append(moto_batch(rotator, batch))
        else:
            moto_batches.append(moto_batch(rotator, batch))
            kit_batches.append(kit_batch(rotator, batch))
        if cached_clients:
            cached_batches.append(kit_batch(rotator, batch, cached_clients=True))
    kit, moto = summarize(kit_batches), summarize(moto_batches)
    variants = [("rotation-testkit", kit), ("moto, hand-driven", moto)]
    if cached_clients:
        variants.append(("kit, clients cached (experiment)", summarize(cached_batches)))
    ratios = {
        "throughput_kit_over_moto_wall": ratio(kit["rotations_per_s"], moto["rotations_per_s"]),
        "throughput_kit_over_moto_cpu": ratio(
            kit["rotations_per_cpu_s"], moto["rotations_per_cpu_s"]
        ),
        "time_per_rotation_kit_over_moto": ratio(
            kit["per_rotation_median_s"], moto["per_rotation_median_s"]
        ),
        "cpu_per_rotation_kit_over_moto": ratio(
            kit["per_rotation_cpu_median_s"], moto["per_rotation_cpu_median_s"]
        ),
    }
    print_table(
        f"Rotations of the {rotator.name} rotator ({rotator.description}), "
        f"{rounds} alternating batches of {batch} per variant",
        ["variant", "rotations/s", "per rot. med", "per rot. p90", "cpu med", "API calls/rot."],
        [
            [
                label,
                f"{r['rotations_per_s']:.1f}",
                ms(r["per_rotation_median_s"]),
                ms(r["per_rotation_p90_s"]),
                ms(r["per_rotation_cpu_median_s"]),
                sum(r["api_calls_per_rotation"].values()),
            ]
            for label, r in variants
        ],
    )
    if cached_clients:
        cached = variants[-1][1]
        ratios["cpu_per_rotation_cached_clients_over_kit"] = ratio(
            cached["per_rotation_cpu_median_s"], kit["per_rotation_cpu_median_s"]
        )
        print(
            "clients cached per world would take the kit's CPU per rotation to "
            f"{ratios['cpu_per_rotation_cached_clients_over_kit']:.2f}x"
        )
    print(
        f"ratio kit/moto, time per rotation (median): "
        f"{ratios['time_per_rotation_kit_over_moto']:.2f} wall, "
        f"{ratios['cpu_per_rotation_kit_over_moto']:.2f} cpu (< 1: the kit is faster); "
        f"throughput {ratios['throughput_kit_over_moto_wall']:.2f} wall, "
        f"{ratios['throughput_kit_over_moto_cpu']:.2f} cpu (> 1: the kit is faster)"
    )
    print("API calls per rotation:")
    for label, r in (("  rotation-testkit", kit), ("  moto, hand-driven", moto)):
        calls = ", ".join(f"{k} {v}" for k, v in sorted(r["api_calls_per_rotation"].items()))
        print(f"{label}: {calls}")
    return {"variants": dict(variants), "ratios": ratios}


def main(argv: list[str] | None = None) -> int:
    parser = _common.parser(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, help="batches per variant")
    parser.add_argument("--batch", type=int, help="timed rotations per batch")
    parser.add_argument(
        "--rotator", choices=sorted(_rotation.ROTATORS), help="one rotator only (default: both)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile one extra kit batch and print the top costs"
    )
    parser.add_argument(
        "--cached-clients",
        action="store_true",
        help="also measure the kit with clients cached per world (an experiment)",
    )
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 6)
    batch = args.batch or (10 if args.quick else 50)
    _common.print_header(NAME, args)
    _common.hermetic_aws_environment()

    names = [args.rotator] if args.rotator else list(_rotation.ROTATORS)
    results = {
        name: compare(_rotation.ROTATORS[name](), rounds, batch, args.cached_clients)
        for name in names
    }

    if args.profile:
        profile = cProfile.Profile()
        rotator = _rotation.ROTATORS[names[0]]()
        kit_batch(rotator, batch, profile)
        print(f"\ncProfile of {batch} rotation-testkit rotations, top 25 by own time:")
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    print(f"load average at end: {_common.load_average()}")
    _common.write_json(args.json, NAME, args, {"rotators": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
