/*
 * 15_loader.sql: set-based loader for the public UCI "Online Retail" format.
 *
 * Use: COPY the CSV into inventory.retail_import_raw (psql's \copy works
 * for any client), then call inventory.import_online_retail().  Every row
 * is loaded or lands in inventory.retail_import_rejects with its reason.
 */

CREATE UNLOGGED TABLE inventory.retail_import_raw (
    line_no      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_no   text,
    stock_code   text,
    description  text,
    quantity     text,
    invoice_date text,
    unit_price   text,
    customer_ref text,
    country      text
);
COMMENT ON TABLE inventory.retail_import_raw IS
    'Staging for import_online_retail(): COPY the CSV here, header skipped';

CREATE TABLE inventory.retail_import_rejects (
    line_no      bigint PRIMARY KEY,
    reason       text NOT NULL,
    invoice_no   text,
    stock_code   text,
    quantity     text,
    invoice_date text
);
COMMENT ON TABLE inventory.retail_import_rejects IS
    'Rows of the last import that could not be loaded, with the reason';

/*
 * parse_retail_timestamp(text) -> timestamp
 *
 * Accepts 'YYYY-MM-DD HH:MM[:SS]' and the original 'M/D/YYYY H:MM'.
 * Returns NULL, never an error, for anything else or for a date that does
 * not exist, so one bad row cannot abort a load.
 */
CREATE FUNCTION inventory.parse_retail_timestamp(p_text text)
RETURNS timestamp
LANGUAGE c
IMMUTABLE
STRICT
PARALLEL SAFE
AS 'MODULE_PATHNAME', 'inv_parse_retail_timestamp';

/*
 * import_online_retail(org_code, time_zone, buffer)
 *
 * Loads inventory.retail_import_raw into the model:
 *   - country -> location, stock code -> product (first description and
 *     first positive price seen), one organisation per call;
 *   - sale lines -> shipments, invoices starting with 'C' -> returns,
 *     other negative lines -> adjustments (stock written off);
 *   - InvoiceDate is local time of the organisation (p_time_zone).
 * The data has no stock levels, so one opening lot per product, location
 * and local month is received at 00:00 on the first of the month, holding
 * the month's peak cumulative net outflow times (1 + p_buffer), rounded
 * up, at least 1: stock never goes below zero and some is left over.
 * References are 'retail:<invoice>/<n>' (n-th line of the invoice), so a
 * second import of the same rows records nothing twice.
 *
 * Returns one row of counts.  Takes the same locks as recording movements.
 */
CREATE FUNCTION inventory.import_online_retail(
    p_org_code text DEFAULT 'online-retail',
    p_time_zone text DEFAULT 'Europe/London',
    p_buffer numeric DEFAULT 0.2,
    OUT rows_read bigint,
    OUT rows_loaded bigint,
    OUT rows_duplicate bigint,
    OUT rows_rejected bigint,
    OUT products_created bigint,
    OUT locations_created bigint,
    OUT lots_created bigint,
    OUT receipts_recorded bigint)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- a bulk load reads whole tables: never a nested loop over them
SET enable_nestloop = off
AS $$
DECLARE
    v_org bigint;
    v_valid bigint;
BEGIN
    IF p_org_code IS NULL OR p_time_zone IS NULL OR p_buffer IS NULL THEN
        RAISE EXCEPTION 'organization code, time zone and buffer must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF p_buffer < 0 THEN
        RAISE EXCEPTION 'buffer must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The buffer given was %s.', p_buffer);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_time_zone) THEN
        RAISE EXCEPTION 'unrecognized time zone: "%"', p_time_zone
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    INSERT INTO inventory.organizations (code, name, time_zone)
    VALUES (p_org_code, p_org_code, p_time_zone)
    ON CONFLICT (code) DO NOTHING;
    SELECT org_id INTO v_org
    FROM inventory.organizations WHERE code = p_org_code;

    -- a second import in the same transaction replaces the work tables
    IF pg_catalog.to_regclass('pg_temp.retail_parsed') IS NOT NULL THEN
        DROP TABLE pg_temp.retail_parsed, pg_temp.retail_moves,
            pg_temp.retail_lots;
    END IF;
    TRUNCATE inventory.retail_import_rejects;
    SELECT count(*) INTO rows_read FROM inventory.retail_import_raw;

    CREATE TEMP TABLE retail_parsed ON COMMIT DROP AS
    SELECT r.line_no,
           btrim(r.invoice_no) AS invoice_no,
           btrim(r.stock_code) AS stock_code,
           NULLIF(btrim(r.description), '') AS description,
           CASE WHEN btrim(r.quantity) ~ '^[-+]?[0-9]{1,12}$'
                THEN btrim(r.quantity)::numeric END AS qty,
           inventory.parse_retail_timestamp(r.invoice_date) AS local_ts,
           CASE WHEN btrim(r.unit_price) ~ '^[-+]?[0-9]{1,12}(\.[0-9]{1,6})?$'
                THEN btrim(r.unit_price)::numeric END AS price,
           NULLIF(btrim(r.country), '') AS country,
           r.quantity AS raw_qty,
           r.invoice_date AS raw_date
    FROM inventory.retail_import_raw r;
    ANALYZE retail_parsed;

    INSERT INTO inventory.retail_import_rejects
        (line_no, reason, invoice_no, stock_code, quantity, invoice_date)
    SELECT p.line_no,
           CASE
               WHEN COALESCE(p.invoice_no, '') = '' THEN 'missing invoice number'
               WHEN COALESCE(p.stock_code, '') = '' THEN 'missing stock code'
               WHEN p.country IS NULL THEN 'missing country'
               WHEN p.qty IS NULL THEN 'quantity is not a whole number'
               WHEN p.qty = 0 THEN 'zero quantity'
               WHEN p.local_ts IS NULL THEN 'unrecognized invoice date'
               ELSE 'cancellation with a positive quantity'
           END,
           p.invoice_no, p.stock_code, p.raw_qty, p.raw_date
    FROM retail_parsed p
    WHERE COALESCE(p.invoice_no, '') = '' OR COALESCE(p.stock_code, '') = ''
       OR p.country IS NULL OR p.qty IS NULL OR p.qty = 0
       OR p.local_ts IS NULL
       OR (p.invoice_no LIKE 'C%' AND p.qty > 0);
    GET DIAGNOSTICS rows_rejected = ROW_COUNT;

    CREATE TEMP TABLE retail_moves ON COMMIT DROP AS
    SELECT p.line_no, p.stock_code, p.description, p.price, p.country,
           p.local_ts AT TIME ZONE p_time_zone AS created_at,
           to_char(p.local_ts, 'YYYY-MM') AS month,
           CASE WHEN p.invoice_no LIKE 'C%' THEN 'return'
                WHEN p.qty > 0 THEN 'shipment'
                ELSE 'adjustment' END AS txn_type,
           CASE WHEN p.invoice_no LIKE 'C%' THEN -p.qty
                WHEN p.qty > 0 THEN -p.qty
                ELSE p.qty END AS quantity,
           'retail:' || p.invoice_no || '/'
               || row_number() OVER (PARTITION BY p.invoice_no
                                     ORDER BY p.line_no) AS reference,
           date_trunc('month', p.local_ts) AT TIME ZONE p_time_zone
               AS month_start,
           NULL::bigint AS product_id,
           NULL::bigint AS location_id,
           NULL::bigint AS lot_id
    FROM retail_parsed p
    WHERE NOT EXISTS (SELECT 1 FROM inventory.retail_import_rejects j
                      WHERE j.line_no = p.line_no);
    GET DIAGNOSTICS v_valid = ROW_COUNT;
    ANALYZE retail_moves;

    -- locations and products, first seen first
    WITH ins AS (
        INSERT INTO inventory.locations (org_id, code, name)
        SELECT v_org, c.country, c.country
        FROM (SELECT country, min(line_no) AS first_line
              FROM retail_moves GROUP BY country) c
        ORDER BY c.first_line
        ON CONFLICT (org_id, code) DO NOTHING
        RETURNING 1)
    SELECT count(*) INTO locations_created FROM ins;

    WITH firsts AS (
        SELECT lower(m.stock_code) AS sku_key,
               (array_agg(m.stock_code ORDER BY m.line_no))[1] AS stock_code,
               min(m.line_no) AS line_no,
               (array_agg(m.description ORDER BY m.line_no)
                    FILTER (WHERE m.description IS NOT NULL))[1]
                   AS description,
               (array_agg(m.price ORDER BY m.line_no)
                    FILTER (WHERE m.price > 0))[1] AS price
        FROM retail_moves m
        GROUP BY lower(m.stock_code)),
    ins AS (
        INSERT INTO inventory.products
            (org_id, sku, name, description, unit_cost)
        SELECT v_org, f.stock_code, COALESCE(f.description, f.stock_code),
               f.description, f.price
        FROM firsts f
        ORDER BY f.line_no
        ON CONFLICT (org_id, lower(sku)) DO NOTHING
        RETURNING 1)
    SELECT count(*) INTO products_created FROM ins;

    UPDATE retail_moves m
    SET product_id = k.product_id, location_id = k.location_id
    FROM (SELECT DISTINCT m2.stock_code, m2.country, p.product_id,
                 l.location_id
          FROM (SELECT DISTINCT stock_code, country FROM retail_moves) m2
          JOIN inventory.products p
            ON p.org_id = v_org AND lower(p.sku) = lower(m2.stock_code)
          JOIN inventory.locations l
            ON l.org_id = v_org AND l.code = m2.country) k
    WHERE k.stock_code = m.stock_code AND k.country = m.country;
    ANALYZE retail_moves;

    -- one opening lot per product, location and local month
    CREATE TEMP TABLE retail_lots ON COMMIT DROP AS
    SELECT product_id, location_id, month, month_start,
           GREATEST(1, ceil(max(deficit) * (1 + p_buffer))) AS opening_qty,
           NULL::bigint AS lot_id
    FROM (SELECT product_id, location_id, month, month_start,
                 GREATEST(0, -sum(quantity) OVER (
                     PARTITION BY product_id, location_id, month
                     ORDER BY created_at, line_no)) AS deficit
          FROM retail_moves) w
    GROUP BY product_id, location_id, month, month_start;
    ANALYZE retail_lots;

    WITH ins AS (
        INSERT INTO inventory.lots
            (product_id, location_id, lot_code, received_at)
        SELECT n.product_id, n.location_id, 'retail-open-' || n.month,
               n.month_start
        FROM retail_lots n
        WHERE NOT EXISTS (
            SELECT 1 FROM inventory.lots l
            WHERE l.product_id = n.product_id
              AND l.location_id = n.location_id
              AND l.lot_code = 'retail-open-' || n.month)
        ORDER BY n.month_start, n.product_id, n.location_id
        RETURNING 1)
    SELECT count(*) INTO lots_created FROM ins;
    -- the ledger's triggers join the new rows to these tables: give the
    -- planner their new sizes (ANALYZE counts this transaction's rows),
    -- or a load in one transaction with other work plans nested loops
    -- over tables it believes empty
    ANALYZE inventory.products;
    ANALYZE inventory.locations;
    ANALYZE inventory.lots;

    UPDATE retail_lots n
    SET lot_id = l.lot_id
    FROM inventory.lots l
    WHERE l.product_id = n.product_id AND l.location_id = n.location_id
      AND l.lot_code = 'retail-open-' || n.month;

    WITH ins AS (
        INSERT INTO inventory.transactions
            (created_at, org_id, product_id, location_id, lot_id, txn_type,
             quantity, reference, note)
        SELECT n.month_start, v_org, n.product_id, n.location_id, n.lot_id,
               'receipt', n.opening_qty,
               'retail-open:' || n.lot_id,
               'opening stock derived by import_online_retail'
        FROM retail_lots n
        ORDER BY n.month_start, n.lot_id
        RETURNING 1)
    SELECT count(*) INTO receipts_recorded FROM ins;

    UPDATE retail_moves m
    SET lot_id = n.lot_id
    FROM retail_lots n
    WHERE n.product_id = m.product_id AND n.location_id = m.location_id
      AND n.month = m.month;

    WITH ins AS (
        INSERT INTO inventory.transactions
            (created_at, org_id, product_id, location_id, lot_id, txn_type,
             quantity, unit_cost, reference)
        SELECT m.created_at, v_org, m.product_id, m.location_id, m.lot_id,
               m.txn_type, m.quantity, m.price, m.reference
        FROM retail_moves m
        ORDER BY m.created_at, m.line_no
        RETURNING 1)
    SELECT count(*) INTO rows_loaded FROM ins;

    rows_duplicate := v_valid - rows_loaded;
    TRUNCATE inventory.retail_import_raw RESTART IDENTITY;

    RAISE LOG 'inventory_ext: import_online_retail read % rows, loaded %, skipped % duplicates, rejected %',
        rows_read, rows_loaded, rows_duplicate, rows_rejected;
END;
$$;
