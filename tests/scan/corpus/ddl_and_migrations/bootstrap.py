"""Creates the tables the migrations do not own, at first start."""

import psycopg

SCHEMA = """
CREATE TABLE IF NOT EXISTS referrals (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id UUID REFERENCES members (id), -- expect: PL202
    referral_code TEXT NOT NULL UNIQUE, -- ok: PL201, PL202
    wallet_id UUID NOT NULL -- expect: PL204
);
"""


def bootstrap(dsn):
    with psycopg.connect(dsn) as conn:
        conn.execute(SCHEMA)
