"""The lab: Flask apps with every integrity failure planted, each beside a hardened twin.

`bank` runs on CockroachDB or PostgreSQL (psycopg 3), `records` on DynamoDB (boto3).
Both twins of an app serve the same HTTP API and the same OpenAPI document; only the
vulnerable twin breaks the contract. Read the twins side by side to learn each fix.
"""

TWINS = ("vulnerable", "hardened")
APPS = ("bank", "records")
