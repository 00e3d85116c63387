"""Tokens signed by this app."""

import jwt

SECRET = "change-me"


def validate_token(token):
    try:
        return jwt.decode(token, SECRET, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
