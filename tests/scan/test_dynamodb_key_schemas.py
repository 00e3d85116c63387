"""Key schemas read from infrastructure files (CloudFormation/SAM/Serverless YAML, create-table JSON, Terraform)."""

from __future__ import annotations

from plumbline.scan.files import key_schema_documents
from plumbline.scan.models.dynamodb_schema import key_schemas

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Messages:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-messages"
      KeySchema:
        - AttributeName: pk
          KeyType: HASH
        - AttributeName: sk
          KeyType: RANGE
      GlobalSecondaryIndexes:
        - IndexName: by-group
          KeySchema:
            - AttributeName: group_id
              KeyType: HASH
  Profiles:
    Type: AWS::Serverless::SimpleTable
    Properties:
      PrimaryKey: {Name: handle, Type: String}
"""

TERRAFORM = """\
resource "aws_dynamodb_table" "orders" {
  name      = "shop-orders"
  hash_key  = "owner"
  range_key = "order_id"
  global_secondary_index {
    name     = "by-status"
    hash_key = "status"
  }
}
"""


def test_cloudformation_tables_with_short_tags_and_indexes():
    found = {(s.name, s.hash_key, s.range_key, s.indexes) for s in key_schemas("template.yaml", TEMPLATE)}
    assert found == {("${AWS::StackName}-messages", "pk", "sk", (("group_id", None),)),
                     ("Profiles", "handle", None, ())}


def test_terraform_table_keys_are_the_tables_not_the_indexes():
    [schema] = key_schemas("main.tf", TERRAFORM)
    assert (schema.name, schema.hash_key, schema.range_key, schema.span.line) == ("shop-orders", "owner", "order_id", 1)


def test_create_table_json_and_unreadable_documents():
    text = '{"TableName": "Mysfits", "KeySchema": [{"AttributeName": "MysfitId", "KeyType": "HASH"}]}'
    assert [(s.name, s.hash_key) for s in key_schemas("table.json", text)] == [("Mysfits", "MysfitId")]
    assert key_schemas("broken.yaml", "Resources: [unclosed") == []
    assert key_schemas("alias.yaml", "a: &a [*a]\nKeySchema: 1\n") == []


def test_only_files_that_declare_tables_are_read(tmp_path):
    (tmp_path / "serverless.yml").write_text(TEMPLATE)
    (tmp_path / "package.json").write_text('{"name": "web"}')
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "table.json").write_text(TEMPLATE)
    assert [path for path, _ in key_schema_documents(tmp_path)] == ["serverless.yml"]
