"""The orders table behind a small repository, used by the views."""

import boto3

client = boto3.client("dynamodb")


def order_of(owner, order_id):
    return client.get_item(TableName="orders", Key={"owner": {"S": owner}, "order_id": {"S": order_id}})


def any_order(order_id):
    return client.get_item(TableName="orders", Key={"order_id": {"S": order_id}})  # expect: PL301


def set_preference(owner, name, value):
    """Writes one preference attribute of the caller's profile; `name` becomes an attribute name."""
    client.update_item(TableName="profiles", Key={"owner": {"S": owner}},  # expect: PL302
                       UpdateExpression=f"SET {name} = :v", ConditionExpression="attribute_exists(owner)",
                       ExpressionAttributeValues={":v": {"S": value}})
