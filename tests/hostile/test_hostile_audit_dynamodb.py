"""Hostile items for the DynamoDB audit: attribute names that are terminal escapes or rich markup, huge values and
secrets among the duplicates — printed harmlessly, values of secrets only as digests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from plumbline.findings import FindingsDocument

pytestmark = [pytest.mark.hostile, pytest.mark.timeout(60)]

PLUMBLINE = Path(sys.executable).with_name("plumbline")
REGION = "us-east-1"
ESCAPE = "\x1b[2J"
TOKEN = "tok-" + "s3cr3t" * 4


def test_hostile_attribute_names_and_values_are_printed_harmlessly(dynamodb_endpoint):
    environment = {**os.environ, "AWS_ACCESS_KEY_ID": "hostile", "AWS_SECRET_ACCESS_KEY": "hostile"}
    database = boto3.resource("dynamodb", endpoint_url=dynamodb_endpoint, region_name=REGION,
                              aws_access_key_id="hostile", aws_secret_access_key="hostile")
    table = database.create_table(TableName="hostile_members", BillingMode="PAY_PER_REQUEST",
                                  KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                                  AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    huge = "x" * 100_000
    for n in range(4):
        table.put_item(Item={"id": f"m{n}", f"{ESCAPE}[red]name[/red]": n if n else "zero", "api_key": TOKEN,
                             "email": huge, "reset_token": TOKEN})
    result = subprocess.run([str(PLUMBLINE), "audit", "--dynamodb", "--endpoint", dynamodb_endpoint, "--region",
                             REGION, "--table", "hostile_members"], capture_output=True, text=True, timeout=50,
                            env=environment)
    assert result.returncode == 1, result.stderr
    assert ESCAPE not in result.stdout and "\\x1b[2J[red]name[/red]" in result.stdout
    assert TOKEN not in result.stdout and huge not in result.stdout

    as_json = subprocess.run([str(PLUMBLINE), "audit", "--dynamodb", "--endpoint", dynamodb_endpoint, "--region",
                              REGION, "--table", "hostile_members", "--format", "json"], capture_output=True,
                             text=True, timeout=50, env=environment)
    document = FindingsDocument.from_json(as_json.stdout)
    duplicates = {f.location.column: f.evidence for f in document.findings if f.rule_id == "PL313"}
    assert set(duplicates) == {"api_key", "reset_token", "email"}
    assert all(key.startswith("sha256:") for key in duplicates["api_key"]["sample_keys"] +
               duplicates["reset_token"]["sample_keys"])
    assert all(len(key) < 300 for key in duplicates["email"]["sample_keys"])  # a digest of the huge value, cut
