-- nodes: one row per pageserver ever registered; deletion is a tombstone (lifecycle = 'deleted').
-- Availability is not stored.
CREATE TABLE nodes (
  node_id BIGINT PRIMARY KEY NOT NULL,
  scheduling_policy VARCHAR NOT NULL,
  listen_http_addr VARCHAR NOT NULL,
  listen_http_port INTEGER NOT NULL,
  listen_pg_addr VARCHAR NOT NULL,
  listen_pg_port INTEGER NOT NULL,
  availability_zone_id VARCHAR NOT NULL,
  lifecycle VARCHAR NOT NULL DEFAULT 'active'
);
