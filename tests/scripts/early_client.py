"""A script that builds a client before activating a world, as a careless script would."""

import os
import warnings

import boto3

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "AKIAMACHINECREDENTIAL",
        "AWS_SECRET_ACCESS_KEY": "machine-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
)
early = boto3.client("secretsmanager")

from rotation_testkit import World  # noqa: E402

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    for _ in range(2):
        world = World()
        with world.activate():
            try:
                early.list_secrets()
                print("early client: answered")
            except Exception as error:  # what the script sees
                print(f"early client: {type(error).__name__}: {error}")
            world.client().create_secret(Name="app/db", SecretString="v")
            print("world client: answered")
print(f"warnings: {sum('built before' in str(w.message) for w in caught)}")
