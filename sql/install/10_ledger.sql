/*
 * 10_ledger.sql: the ledger's triggers and the functions that record
 * movements.
 *
 * Rule: stock changes only by recording a movement in the ledger.  A row
 * trigger (C, src/ledger.c) lets each reference be recorded once across
 * all months; a statement trigger then applies the statement's rows to
 * their lots in one pass, locking the lots in lot_id order, the global
 * lock order of every function that changes lots.
 */

CREATE FUNCTION inventory.ledger_before_insert()
RETURNS trigger
LANGUAGE c
AS 'MODULE_PATHNAME', 'inv_ledger_before_insert';

CREATE TRIGGER transactions_claim_reference
    BEFORE INSERT ON inventory.transactions
    FOR EACH ROW EXECUTE FUNCTION inventory.ledger_before_insert();

CREATE FUNCTION inventory.ledger_apply_to_lots()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_bad record;
BEGIN
    -- every row must name an existing lot of its product, location and org
    SELECT n.lot_id, n.reference INTO v_bad
    FROM new_rows n
    LEFT JOIN inventory.lots l ON l.lot_id = n.lot_id
    LEFT JOIN inventory.products p ON p.product_id = l.product_id
    WHERE l.lot_id IS NULL
       OR l.product_id <> n.product_id
       OR l.location_id <> n.location_id
       OR p.org_id <> n.org_id
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger row "%" does not match lot %',
            v_bad.reference, v_bad.lot_id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = 'A ledger row must name an existing lot with the same product, location and organization.';
    END IF;

    -- lock in the global order before changing anything
    PERFORM 1
    FROM inventory.lots l
    WHERE l.lot_id IN (SELECT n.lot_id FROM new_rows n)
    ORDER BY l.lot_id
    FOR NO KEY UPDATE;

    UPDATE inventory.lots l
    SET qty_on_hand = l.qty_on_hand + d.delta,
        last_movement_at = GREATEST(l.last_movement_at, d.last_at)
    FROM (SELECT n.lot_id, sum(n.quantity) AS delta,
                 max(n.created_at) AS last_at
          FROM new_rows n
          GROUP BY n.lot_id) d
    WHERE l.lot_id = d.lot_id;

    SELECT l.lot_id, l.qty_on_hand, p.sku INTO v_bad
    FROM inventory.lots l
    JOIN inventory.products p ON p.product_id = l.product_id
    WHERE l.lot_id IN (SELECT n.lot_id FROM new_rows n)
      AND l.qty_on_hand < 0
      AND NOT p.allow_negative
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'movement would leave lot % of product "%" with negative stock',
            v_bad.lot_id, v_bad.sku
            USING ERRCODE = 'check_violation',
                  DETAIL = format('The lot would hold %s.', v_bad.qty_on_hand),
                  HINT = 'Record a receipt or adjustment first, or set allow_negative on the product.';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER transactions_apply_to_lots
    AFTER INSERT ON inventory.transactions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.ledger_apply_to_lots();

CREATE FUNCTION inventory.ledger_forbid_update()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'cannot update rows of the ledger'
        USING ERRCODE = 'feature_not_supported',
              HINT = 'Record an adjustment instead.';
END;
$$;

CREATE TRIGGER transactions_forbid_update
    BEFORE UPDATE ON inventory.transactions
    FOR EACH STATEMENT EXECUTE FUNCTION inventory.ledger_forbid_update();

/*
 * record_movement(lot, type, quantity, reference, at, demand_ref, note)
 *
 * Records one movement against an existing lot.  quantity is the amount
 * moved, positive, for receipt, return, shipment and consumption (the
 * sign is implied by the type), and the signed change for adjustment and
 * transfer.  Returns true when recorded, false when the reference was
 * recorded before (nothing changes).  Locks the lot.
 */
CREATE FUNCTION inventory.record_movement(
    p_lot_id bigint,
    p_txn_type text,
    p_quantity numeric,
    p_reference text,
    p_created_at timestamptz DEFAULT pg_catalog.now(),
    p_demand_ref text DEFAULT NULL,
    p_note text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_lot inventory.lots%ROWTYPE;
    v_org bigint;
    v_signed numeric;
    v_count bigint;
BEGIN
    IF p_lot_id IS NULL OR p_txn_type IS NULL OR p_quantity IS NULL
       OR p_reference IS NULL OR p_created_at IS NULL THEN
        RAISE EXCEPTION 'lot, type, quantity, reference and time must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_txn_type NOT IN ('receipt', 'shipment', 'consumption', 'adjustment',
                          'transfer', 'return') THEN
        RAISE EXCEPTION 'unrecognized movement type: "%"', p_txn_type
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use receipt, shipment, consumption, adjustment, transfer or return.';
    END IF;
    IF p_quantity = 0 OR (p_quantity < 0 AND p_txn_type IN
            ('receipt', 'shipment', 'consumption', 'return')) THEN
        RAISE EXCEPTION 'quantity of a % must be positive', p_txn_type
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The quantity given was %s.', p_quantity);
    END IF;

    SELECT * INTO v_lot FROM inventory.lots WHERE lot_id = p_lot_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lot % does not exist', p_lot_id
            USING ERRCODE = 'undefined_object';
    END IF;
    SELECT org_id INTO v_org
    FROM inventory.products WHERE product_id = v_lot.product_id;

    v_signed := CASE WHEN p_txn_type IN ('shipment', 'consumption')
                     THEN -p_quantity ELSE p_quantity END;

    INSERT INTO inventory.transactions
        (created_at, org_id, product_id, location_id, lot_id, txn_type,
         quantity, reference, demand_ref, note)
    VALUES (p_created_at, v_org, v_lot.product_id, v_lot.location_id,
            p_lot_id, p_txn_type, v_signed, p_reference, p_demand_ref, p_note);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    RETURN v_count = 1;
END;
$$;

/*
 * receive(product, location, quantity, reference, received_at, expires_on,
 *         lot_code, unit_cost)
 *
 * Creates a lot and records its receipt.  Idempotent by reference: a
 * second call with the same reference creates nothing and returns the lot
 * made by the first.
 */
CREATE FUNCTION inventory.receive(
    p_product_id bigint,
    p_location_id bigint,
    p_quantity numeric,
    p_reference text,
    p_received_at timestamptz DEFAULT pg_catalog.now(),
    p_expires_on date DEFAULT NULL,
    p_lot_code text DEFAULT NULL,
    p_unit_cost numeric DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_org bigint;
    v_lot bigint;
    v_count bigint;
BEGIN
    IF p_product_id IS NULL OR p_location_id IS NULL OR p_quantity IS NULL
       OR p_reference IS NULL OR p_received_at IS NULL THEN
        RAISE EXCEPTION 'product, location, quantity, reference and time must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_quantity <= 0 THEN
        RAISE EXCEPTION 'quantity of a receipt must be positive'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The quantity given was %s.', p_quantity);
    END IF;
    SELECT org_id INTO v_org
    FROM inventory.products WHERE product_id = p_product_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'product % does not exist', p_product_id
            USING ERRCODE = 'undefined_object';
    END IF;
    PERFORM 1 FROM inventory.locations
    WHERE location_id = p_location_id AND org_id = v_org;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'location % does not exist in the product''s organization',
            p_location_id
            USING ERRCODE = 'undefined_object';
    END IF;

    -- already recorded: hand back the lot it made
    SELECT t.lot_id INTO v_lot
    FROM inventory.transaction_refs r
    JOIN inventory.transactions t
      ON t.txn_id = r.txn_id AND t.created_at = r.created_at
    WHERE r.org_id = v_org AND r.reference = p_reference;
    IF FOUND THEN
        RETURN v_lot;
    END IF;

    INSERT INTO inventory.lots
        (product_id, location_id, lot_code, received_at, expires_on)
    VALUES (p_product_id, p_location_id, p_lot_code, p_received_at,
            p_expires_on)
    RETURNING lot_id INTO v_lot;

    INSERT INTO inventory.transactions
        (created_at, org_id, product_id, location_id, lot_id, txn_type,
         quantity, unit_cost, reference)
    VALUES (p_received_at, v_org, p_product_id, p_location_id, v_lot,
            'receipt', p_quantity, p_unit_cost, p_reference);
    GET DIAGNOSTICS v_count = ROW_COUNT;
    IF v_count = 0 THEN
        -- a concurrent call recorded the same reference first
        DELETE FROM inventory.lots WHERE lot_id = v_lot;
        SELECT t.lot_id INTO v_lot
        FROM inventory.transaction_refs r
        JOIN inventory.transactions t
          ON t.txn_id = r.txn_id AND t.created_at = r.created_at
        WHERE r.org_id = v_org AND r.reference = p_reference;
    END IF;
    RETURN v_lot;
END;
$$;
