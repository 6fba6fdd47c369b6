"""Where the time of one scheduled rotation goes, on the fake clock (as in ``ten_years.py``).

In one world, daily rotations of the minimal rotator run in batches of simulated days, alternating
three ways of running the same four steps:

- ``boto3``: the minimal rotator (``_minimal_rotator.py``), whose eight calls go through boto3 and
  the direct path;
- ``store``: the same steps written against the world's store directly, without boto3: what is
  left is the service's own work (the control plane, the invocations, the history, the
  invariants, the clock);
- ``botocore alone``: one boto3 call answered by a canned response at ``before-call``, the least
  any boto3 call costs (serialising the parameters, resolving the endpoint, botocore's events).

The difference between the first two, divided by the API calls the rotator makes, is what one call
costs through boto3 and the direct path; set against the third, it shows how much of that is
rotation-testkit's.

Run: ``.venv/bin/python benchmarks/rotation_breakdown.py [--quick] [--json PATH]``.
"""

from __future__ import annotations

import json
from typing import Any

import _common
import _rotation
from _common import Timer, median, print_table, ratio

from rotation_testkit.config import KitConfig
from rotation_testkit.world import World

NAME = "rotation_breakdown"
CALLS_PER_ROTATION = 7  # the minimal rotator's own calls (RotateSecret comes from the schedule)


def store_handler(world: World) -> Any:
    """The minimal rotator's steps, against the store instead of through boto3."""
    import uuid

    def handler(event: dict[str, Any], context: Any) -> None:
        backend = world.backend
        secret = backend.secret(event["SecretId"])
        token = event["ClientRequestToken"]
        if event["Step"] == "createSecret":
            current = backend.get_secret_value(secret.arn, None, "AWSCURRENT")
            value = {**json.loads(current["SecretString"]), "password": uuid.uuid4().hex}
            backend.write_version(secret, token, json.dumps(value), None, ["AWSPENDING"])
        elif event["Step"] == "finishSecret":
            current_id = next(
                v for v, d in secret.versions.items() if "AWSCURRENT" in d["version_stages"]
            )
            backend.update_secret_version_stage(secret.arn, "AWSCURRENT", current_id, token)

    return handler


def per_rotation_cpu(world: World, days: int, rounds: int) -> list[float]:
    timer = Timer()
    for _ in range(rounds):
        with timer.measure():
            world.clock.advance(days=days)
    return [sample.cpu / days for sample in timer.samples]


def main(argv: list[str] | None = None) -> int:
    parser = _common.parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)
    days, rounds = (10, 4) if args.quick else (30, 10)
    _common.print_header(NAME, args)
    _common.hermetic_aws_environment()
    minimal = _rotation.ROTATORS["minimal"]()

    results: dict[str, list[float]] = {"boto3": [], "store": []}
    for way in results:
        world = World(KitConfig())
        with world.activate():
            world.start_clock()
            client = world.client()
            client.create_secret(Name="bench/breakdown", SecretString=_rotation.INITIAL)
            handler = minimal.handler if way == "boto3" else store_handler(world)
            arn = world.lambdas.register(handler, name="rotator")
            client.rotate_secret(
                SecretId="bench/breakdown",
                RotationLambdaARN=arn,
                RotationRules={"AutomaticallyAfterDays": 1},
            )
            world.clock.advance(days=110)  # past the first 100 versions: the store is full
            results[way] = per_rotation_cpu(world, days, rounds)
            if world.history.events("RotationFailed"):
                raise SystemExit(f"{way}: a rotation failed")

    world = World()
    with world.activate():
        client = world.client()
        client.create_secret(Name="bench/breakdown", SecretString="x")
        canned: list[Any] = []
        client.meta.events.register(
            "after-call.secrets-manager.GetSecretValue",
            lambda http_response, parsed, **_: canned.append((http_response, parsed)),
        )
        client.get_secret_value(SecretId="bench/breakdown")
        direct_timer, floor_timer = Timer(), Timer()
        for _ in range(rounds * 20):
            with direct_timer.measure():
                client.get_secret_value(SecretId="bench/breakdown")
        client.meta.events.register_first(
            "before-call.secrets-manager.GetSecretValue", lambda **_: canned[0]
        )
        for _ in range(rounds * 20):
            with floor_timer.measure():
                client.get_secret_value(SecretId="bench/breakdown")

    boto3_rotation, store_rotation = median(results["boto3"]), median(results["store"])
    per_call = (boto3_rotation - store_rotation) / CALLS_PER_ROTATION
    floor = median(floor_timer.cpus())
    get_call = median(direct_timer.cpus())
    print_table(
        "CPU per scheduled rotation of the minimal rotator, medians",
        ["part", "cpu", "share"],
        [
            ["the whole rotation (boto3 + direct path)", f"{boto3_rotation * 1000:.2f} ms", "100%"],
            [
                "the service's own work (no boto3)",
                f"{store_rotation * 1000:.2f} ms",
                f"{ratio(store_rotation, boto3_rotation):.0%}",
            ],
            [
                f"{CALLS_PER_ROTATION} API calls through boto3",
                f"{(boto3_rotation - store_rotation) * 1000:.2f} ms",
                f"{ratio(boto3_rotation - store_rotation, boto3_rotation):.0%}",
            ],
        ],
    )
    print_table(
        "CPU per API call",
        ["call", "cpu"],
        [
            ["average call of the rotation", f"{per_call * 1e6:.0f} us"],
            ["GetSecretValue through the direct path", f"{get_call * 1e6:.0f} us"],
            ["GetSecretValue, botocore alone (canned answer)", f"{floor * 1e6:.0f} us"],
        ],
    )
    print(
        f"3,650 rotations at this rate: {boto3_rotation * 3650:.1f} s of CPU, of which "
        f"{store_rotation * 3650:.1f} s the service's own work and "
        f"{floor * CALLS_PER_ROTATION * 3650:.1f} s botocore alone"
    )
    print(f"load average at end: {_common.load_average()}")
    _common.write_json(
        args.json,
        NAME,
        args,
        {
            "per_rotation_cpu_s": {"boto3": boto3_rotation, "store": store_rotation},
            "per_call_cpu_s": {
                "rotation_average": per_call,
                "get_direct": get_call,
                "floor": floor,
            },
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
