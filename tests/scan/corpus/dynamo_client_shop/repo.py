"""The orders table behind a small repository, used by the views."""

import boto3

client = boto3.client("dynamodb")


def order_of(owner, order_id):
    return client.get_item(TableName="orders", Key={"owner": {"S": owner}, "order_id": {"S": order_id}})


def any_order(order_id):
    return client.get_item(TableName="orders", Key={"order_id": {"S": order_id}})  # expect: PL301
