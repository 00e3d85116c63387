"""plumbline: find, prove and fix integrity failures in Flask APIs on CockroachDB and DynamoDB."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plumbline")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
