/*
 * 00_schema.sql: the data model.
 *
 * Quantities are numeric throughout; constraints make impossible states
 * impossible.  Stock lives in inventory.lots and is changed only by the
 * ledger (inventory.transactions) through its triggers (10_ledger.sql).
 */

CREATE SCHEMA inventory;
COMMENT ON SCHEMA inventory IS 'inventory_ext: inventory engine';

CREATE TABLE inventory.organizations (
    org_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code <> ''),
    name        text NOT NULL,
    -- calendar of the organisation: local days and months are read here
    time_zone   text NOT NULL DEFAULT 'UTC',
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE inventory.organizations IS
    'Tenants; time_zone defines their local calendar days';

CREATE TABLE inventory.products (
    product_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id          bigint NOT NULL REFERENCES inventory.organizations,
    sku             text NOT NULL CHECK (sku <> ''),
    name            text NOT NULL,
    description     text,
    category        text,
    status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'inactive', 'discontinued')),
    -- NULL: computed by the reorder analysis
    reorder_point   numeric(18,4) CHECK (reorder_point >= 0),
    unit_cost       numeric(18,4) CHECK (unit_cost >= 0),
    lead_time_days  integer NOT NULL DEFAULT 7 CHECK (lead_time_days >= 0),
    pack_multiple   numeric(18,4) NOT NULL DEFAULT 1 CHECK (pack_multiple > 0),
    allow_negative  boolean NOT NULL DEFAULT false,
    attributes      jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE inventory.products IS
    'Products; SKU unique per organisation, compared case-insensitively';

-- case-insensitive SKU lookups, and the uniqueness that goes with them
CREATE UNIQUE INDEX products_org_sku_key
    ON inventory.products (org_id, pg_catalog.lower(sku));
CREATE INDEX products_org_category_idx
    ON inventory.products (org_id, category);
-- full-text search over name and description
CREATE INDEX products_search_idx
    ON inventory.products USING gin (
        pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig,
            name OPERATOR(pg_catalog.||) ' '
            OPERATOR(pg_catalog.||) COALESCE(description, '')));

CREATE TABLE inventory.locations (
    location_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      bigint NOT NULL REFERENCES inventory.organizations,
    code        text NOT NULL CHECK (code <> ''),
    name        text NOT NULL,
    -- lower serves first when allocation must choose between locations
    priority    integer NOT NULL DEFAULT 100,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (org_id, code)
);

/*
 * One row per lot of a product at a location.  on_hand may go negative
 * only for products that allow it (checked by the ledger trigger, which
 * can see the product); allocated never exceeds on_hand.
 */
CREATE TABLE inventory.lots (
    lot_id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id       bigint NOT NULL REFERENCES inventory.products,
    location_id      bigint NOT NULL REFERENCES inventory.locations,
    lot_code         text,
    received_at      timestamptz NOT NULL,
    expires_on       date,
    qty_on_hand      numeric(18,4) NOT NULL DEFAULT 0,
    qty_allocated    numeric(18,4) NOT NULL DEFAULT 0
                     CHECK (qty_allocated >= 0),
    qty_on_order     numeric(18,4) NOT NULL DEFAULT 0
                     CHECK (qty_on_order >= 0),
    qty_available    numeric(18,4)
                     GENERATED ALWAYS AS (qty_on_hand - qty_allocated) STORED,
    status           text NOT NULL DEFAULT 'available'
                     CHECK (status IN ('available', 'quarantine', 'blocked')),
    last_movement_at timestamptz,
    CONSTRAINT lots_not_over_allocated
        CHECK (qty_allocated = 0 OR qty_allocated <= qty_on_hand)
);
COMMENT ON TABLE inventory.lots IS
    'Stock lots; changed only through the ledger and allocation functions';
CREATE INDEX lots_product_idx
    ON inventory.lots (product_id, location_id, received_at, lot_id);
-- lots that can still serve demand
CREATE INDEX lots_product_open_idx
    ON inventory.lots (product_id, expires_on, received_at)
    WHERE qty_on_hand > 0 AND status = 'available';

/*
 * The ledger.  quantity is signed: its effect on the lot's on-hand.
 * Rows are never updated; corrections are new adjustment rows.  There is
 * no foreign key to lots: the statement trigger checks every row against
 * its lot in one pass, which is much cheaper for bulk loads.
 */
CREATE TABLE inventory.transactions (
    txn_id      bigint GENERATED ALWAYS AS IDENTITY,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    org_id      bigint NOT NULL,
    product_id  bigint NOT NULL,
    location_id bigint NOT NULL,
    lot_id      bigint NOT NULL,
    txn_type    text NOT NULL,
    quantity    numeric(18,4) NOT NULL,
    unit_cost   numeric(18,4),
    reference   text NOT NULL,
    demand_ref  text,
    note        text,
    CONSTRAINT transactions_type_check CHECK (txn_type IN
        ('receipt', 'shipment', 'consumption', 'adjustment', 'transfer',
         'return')),
    CONSTRAINT transactions_sign_check CHECK (CASE txn_type
        WHEN 'receipt' THEN quantity > 0
        WHEN 'return' THEN quantity > 0
        WHEN 'shipment' THEN quantity < 0
        WHEN 'consumption' THEN quantity < 0
        ELSE quantity <> 0 END),
    PRIMARY KEY (txn_id, created_at)
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE inventory.transactions IS
    'Stock movement ledger, one partition per month; quantity is signed';

CREATE TABLE inventory.transactions_default
    PARTITION OF inventory.transactions DEFAULT;

CREATE INDEX transactions_product_idx
    ON inventory.transactions (product_id, location_id, created_at);
CREATE INDEX transactions_lot_idx
    ON inventory.transactions (lot_id);
CREATE INDEX transactions_demand_idx
    ON inventory.transactions (demand_ref) WHERE demand_ref IS NOT NULL;

/*
 * One row per recorded reference, across all months: the ledger's
 * uniqueness rule that a partitioned index cannot express.
 */
CREATE TABLE inventory.transaction_refs (
    org_id      bigint NOT NULL,
    reference   text NOT NULL,
    txn_id      bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, reference)
);

/* Where old months go: same columns, also partitioned by month. */
CREATE TABLE inventory.transactions_archive (
    txn_id      bigint NOT NULL,
    created_at  timestamptz NOT NULL,
    org_id      bigint NOT NULL,
    product_id  bigint NOT NULL,
    location_id bigint NOT NULL,
    lot_id      bigint NOT NULL,
    txn_type    text NOT NULL,
    quantity    numeric(18,4) NOT NULL,
    unit_cost   numeric(18,4),
    reference   text NOT NULL,
    demand_ref  text,
    note        text
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE inventory.transactions_archive IS
    'Archived months of the ledger, same shape';

CREATE TABLE inventory.transactions_archive_default
    PARTITION OF inventory.transactions_archive DEFAULT;

/*
 * Allocations: which lot serves which demand line.  'reserved' holds the
 * quantity in lots.qty_allocated; 'committed' has become a shipment;
 * 'released' gave it back.
 */
CREATE TABLE inventory.allocations (
    allocation_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    demand_ref    text NOT NULL,
    demand_line   integer NOT NULL DEFAULT 1,
    product_id    bigint NOT NULL REFERENCES inventory.products,
    lot_id        bigint NOT NULL REFERENCES inventory.lots,
    location_id   bigint NOT NULL REFERENCES inventory.locations,
    quantity      numeric(18,4) NOT NULL CHECK (quantity > 0),
    status        text NOT NULL DEFAULT 'reserved'
                  CHECK (status IN ('reserved', 'committed', 'released')),
    strategy      text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    updated_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX allocations_demand_idx
    ON inventory.allocations (demand_ref, demand_line);
CREATE INDEX allocations_lot_reserved_idx
    ON inventory.allocations (lot_id) WHERE status = 'reserved';

/*
 * Registry of managed partitioned tables and their policies; maintained
 * by the partition engine.  time_zone is the calendar of the partition
 * bounds, fixed at registration, never the caller's session zone.
 */
CREATE TABLE inventory.partition_policies (
    parent            regclass PRIMARY KEY,
    partition_column  name NOT NULL,
    column_type       regtype NOT NULL,
    time_zone         text NOT NULL,
    premake_months    integer NOT NULL DEFAULT 3
                      CHECK (premake_months BETWEEN 0 AND 120),
    retention         interval,
    retention_action  text NOT NULL DEFAULT 'detach'
                      CHECK (retention_action IN ('drop', 'detach', 'archive')),
    archive_parent    regclass,
    options           jsonb NOT NULL DEFAULT '{}',
    registered_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_maintenance_at timestamptz,
    CHECK (retention_action <> 'archive' OR archive_parent IS NOT NULL)
);
COMMENT ON TABLE inventory.partition_policies IS
    'Managed partitioned tables and their premake and retention policies';

/*
 * pg_dump skips the contents of extension tables unless told: these hold
 * users' data and configuration.  Partitions made later by the partition
 * engine are not extension members and are dumped as ordinary tables.
 */
SELECT pg_catalog.pg_extension_config_dump('inventory.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('inventory.products', '');
SELECT pg_catalog.pg_extension_config_dump('inventory.locations', '');
SELECT pg_catalog.pg_extension_config_dump('inventory.lots', '');
SELECT pg_catalog.pg_extension_config_dump('inventory.transactions_default', '');
SELECT pg_catalog.pg_extension_config_dump('inventory.transaction_refs', '');
SELECT pg_catalog.pg_extension_config_dump(
    'inventory.transactions_archive_default', '');
SELECT pg_catalog.pg_extension_config_dump('inventory.allocations', '');
SELECT pg_catalog.pg_extension_config_dump('inventory.partition_policies', '');
