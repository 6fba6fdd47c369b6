"""rotation-testkit: test AWS Secrets Manager rotation functions without AWS."""

__version__ = "0.1.0"
