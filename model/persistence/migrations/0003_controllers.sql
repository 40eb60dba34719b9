-- controllers: meant to hold at most one row, the current leader (upstream create_leader
-- migration). Nothing enforces "at most one": two first-ever INSERTs both succeed (SPEC §3.6).
CREATE TABLE controllers (
  address VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (address, started_at)
);
