CREATE TABLE plots (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    label TEXT NOT NULL UNIQUE,
    last_harvest TIMESTAMPTZ
);

CREATE TABLE harvests (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    plot_id UUID NOT NULL REFERENCES plots (id),
    kilos NUMERIC(8, 2) NOT NULL CHECK (kilos > 0)
);
