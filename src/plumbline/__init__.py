"""plumbline: find, prove and fix integrity failures in Flask APIs on CockroachDB and DynamoDB."""

# The one place the version is written: pyproject.toml reads it from here (setuptools `dynamic`), so that a
# start of the tool does not pay for importlib.metadata (about 50 ms, a tenth of a small scan).
__version__ = "0.1.0"
