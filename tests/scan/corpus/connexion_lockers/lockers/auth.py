"""Bearer tokens: connexion calls decode_token and passes its answer to handlers as `user` / `token_info`."""

import jwt

SECRET = "change-me"


def decode_token(token):
    return jwt.decode(token, SECRET, algorithms=["HS256"])
