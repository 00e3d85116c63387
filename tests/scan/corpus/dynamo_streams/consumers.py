"""Stream and queue consumers: each record arrives at least once."""

import uuid

import boto3
from boto3.dynamodb.conditions import Key
from aws_lambda_powertools.utilities.idempotency import idempotent

dynamodb = boto3.resource("dynamodb")
client = boto3.client("dynamodb")
sns = boto3.client("sns")
streams = boto3.client("dynamodbstreams")
totals = dynamodb.Table("totals")
feed = dynamodb.Table("feed")
copies = dynamodb.Table("order_copies")
applied = dynamodb.Table("applied_events")


def count_orders(event, context):
    for record in event["Records"]:
        user = record["dynamodb"]["NewImage"]["user_id"]["S"]
        totals.update_item(Key={"user_id": user}, UpdateExpression="ADD orders :one",  # expect: PL305
                           ExpressionAttributeValues={":one": 1})


def announce(event, context):
    for record in event["Records"]:
        sns.publish(TopicArn="arn:aws:sns:eu-west-1:1:orders", Message=record["body"])  # expect: PL305


def log_messages(event, context):
    for message in event["Records"]:
        feed.put_item(Item={"entry_id": str(uuid.uuid4()), "text": "order received"})  # expect: PL305


def sum_amounts(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        totals.update_item(Key={"user_id": image["user_id"]["S"]},  # expect: PL305
                           UpdateExpression="SET spent = spent + :amount",
                           ExpressionAttributeValues={":amount": image["amount"]["N"]})


def poll(shard_iterator):
    while True:
        page = streams.get_records(ShardIterator=shard_iterator)
        for record in page["Records"]:
            feed.update_item(Key={"entry_id": "all"}, UpdateExpression="SET ids = list_append(ids, :id)",  # expect: PL305
                             ExpressionAttributeValues={":id": [record["eventID"]]})
        shard_iterator = page["NextShardIterator"]


def count_orders_once(event, context):
    for record in event["Records"]:
        user = record["dynamodb"]["NewImage"]["user_id"]["S"]
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": "applied_events", "Item": {"event_id": {"S": record["eventID"]}},
                     "ConditionExpression": "attribute_not_exists(event_id)"}},
            {"Update": {"TableName": "totals", "Key": {"user_id": {"S": user}},  # ok: PL305
                        "UpdateExpression": "ADD orders :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])


def mirror_orders(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        copies.put_item(Item={"order_id": image["order_id"]["S"], "total": image["total"]["N"]})  # ok: PL305


@idempotent
def announce_once(event, context):
    for record in event["Records"]:
        sns.publish(TopicArn="arn:aws:sns:eu-west-1:1:orders", Message=record["body"])  # ok: PL305


def forget_orders(event, context):
    for record in event["Records"]:
        copies.delete_item(Key={"order_id": record["dynamodb"]["Keys"]["order_id"]["S"]})  # ok: PL305


def announce_after_marking(event, context):
    for record in event["Records"]:
        applied.put_item(Item={"event_id": record["messageId"]}, ConditionExpression="attribute_not_exists(event_id)")
        sns.publish(TopicArn="arn:aws:sns:eu-west-1:1:orders", Message=record["body"])  # ok: PL305


def move_order(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        copies.delete_item(Key={"order_id": image["order_id"]["S"]})
        copies.put_item(Item={"order_id": image["new_id"]["S"], "total": image["total"]["N"]})  # expect: PL304


def rename_shelf(event, context):
    """Handles one record per invocation (batch size 1), read by index rather than in a loop."""
    image = event["Records"][0]["dynamodb"]["NewImage"]
    for row in copies.query(KeyConditionExpression=Key("shelf").eq(image["shelf"]["S"]))["Items"]:
        copies.delete_item(Key={"order_id": row["order_id"]})
        copies.put_item(Item={"order_id": image["prefix"]["S"] + row["order_id"],  # expect: PL304  # ok: PL305
                              "shelf": image["new_shelf"]["S"]})


def remember_first(event, context):
    delivery = event["Records"][0]
    applied.put_item(Item={"event_id": delivery["eventID"], "seen": 1},  # ok: PL304, PL305
                     ConditionExpression="attribute_not_exists(event_id)")
