"""`rotation-testkit serve`: the in-memory world as a standalone HTTP endpoint on loopback.

For people who test by hand (the AWS CLI, an SDK) or from another language's test suite: one world,
served until Ctrl-C (or SIGTERM), then stopped with every process and thread it started.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any, TextIO

from .execution.commands import check_command
from .execution.lambdas import LambdaRegistrationError
from .foundations import user_input
from .foundations.config import KitConfig
from .world import World

EXIT_OK, EXIT_USAGE = 0, 2


def run_serve_command(
    args: argparse.Namespace, out: TextIO | None = None, stop: threading.Event | None = None
) -> int:
    """Serve until ``stop`` is set, Ctrl-C or SIGTERM; returns the exit code."""
    out = out or sys.stdout
    stop = stop or threading.Event()
    try:
        user_input.port(args.port)
        if args.function_command:
            check_command(args.function_command, args.cwd)
    except ValueError as error:
        print(f"rotation-testkit serve: {error}", file=sys.stderr)
        return EXIT_USAGE
    world = World(KitConfig())
    with world.activate(), _stop_on_sigterm(stop):
        try:
            url = world.endpoint_url(port=args.port)
            function_arn = None
            if args.function_command:
                function_arn = world.lambdas.register_command(
                    args.function_command, name="rotator", timeout=args.timeout, cwd=args.cwd
                )
        except (OSError, LambdaRegistrationError) as error:
            print(f"rotation-testkit serve: {error}", file=sys.stderr)
            return EXIT_USAGE
        region = world.config.region
        keys = world.endpoint_credentials()  # drawn for this run: requests signed otherwise fail
        print(f"rotation-testkit serve: {url}", file=out)
        print(
            f"  export AWS_ENDPOINT_URL={url} AWS_REGION={region} "
            f"AWS_ACCESS_KEY_ID={keys.access_key_id} "
            f"AWS_SECRET_ACCESS_KEY={keys.secret_access_key}",
            file=out,
        )
        if function_arn is not None:
            print(f"  rotation function: {function_arn} ({args.function_command})", file=out)
        print("Serving on 127.0.0.1 only. Press Ctrl-C to stop.", file=out, flush=True)
        try:
            while not stop.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
        print("rotation-testkit serve: stopped.", file=out, flush=True)
    return EXIT_OK


class _stop_on_sigterm:
    """SIGTERM stops the server as Ctrl-C does (only from the main thread, where signals land)."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop
        self._previous: Any = None

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, lambda *_: self._stop.set())

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
