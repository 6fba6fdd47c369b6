"""A program that starts and never asks the Runtime API for an event (not a runtime client)."""

import time

time.sleep(600)
