-- tenant_shards: one row per tenant shard (upstream migration 2024-01-07 plus later columns:
-- generations_null, tenant_policies, preferred_az). Intent and observed placement are not stored.
CREATE TABLE tenant_shards (
  tenant_id VARCHAR NOT NULL,
  shard_number INTEGER NOT NULL,
  shard_count INTEGER NOT NULL,
  shard_stripe_size INTEGER NOT NULL,
  generation INTEGER,
  generation_pageserver BIGINT,
  placement_policy VARCHAR NOT NULL,
  splitting SMALLINT NOT NULL DEFAULT 0,
  config TEXT NOT NULL,
  scheduling_policy VARCHAR NOT NULL DEFAULT '"Active"',
  preferred_az_id VARCHAR,
  PRIMARY KEY (tenant_id, shard_number, shard_count)
);
CREATE INDEX tenant_shards_generation_pageserver ON tenant_shards (generation_pageserver);
