"""Where the notes table comes from, for handlers elsewhere."""

import boto3


def notes_table():
    return boto3.resource("dynamodb").Table("shared_notes")
