CREATE TABLE members (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    email TEXT NOT NULL, -- ok: PL201
    nickname TEXT -- expect: PL201, PL202
);

CREATE TABLE wallets (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    member_id UUID NOT NULL, -- ok: PL204
    balance BIGINT NOT NULL, -- ok: PL203
    credits BIGINT NOT NULL -- expect: PL203
);

ALTER TABLE members ADD CONSTRAINT members_email_key UNIQUE (email);
ALTER TABLE wallets ADD CONSTRAINT wallets_balance_non_negative CHECK (balance >= 0);
ALTER TABLE wallets ADD CONSTRAINT wallets_member_fk FOREIGN KEY (member_id) REFERENCES members (id);
