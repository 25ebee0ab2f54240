/*
 * 40_fifo.sql: allocation of stock lots to demand (src/fifo.c).
 *
 * allocate() and allocate_lines() reserve stock in inventory.lots
 * (qty_allocated) and record which lot serves which demand line in
 * inventory.allocations; commit_allocation() turns reservations into
 * shipments in the ledger, release_allocation() gives them back.
 *
 * Lock order, shared with the ledger's statement trigger: the demand's
 * advisory lock, then its allocation rows (allocation_id order), then
 * lots in lot_id order.  Every wait is bounded by inventory_ext.lock_timeout
 * and fails with SQLSTATE 55P03, which is safe to retry.
 */

/*
 * lot_is_usable(expires_on, as_of, min_shelf_life_days) -> boolean
 *
 * The one expiry rule: every function that judges expiry calls it.  A lot
 * without an expiry date is always usable.  A dated lot is usable on day
 * as_of while as_of is before expires_on (on its expiry date it is
 * expired), and, with a minimum shelf life of N days, only if
 * expires_on - as_of >= N.  as_of is a local date of the organization,
 * never the session's CURRENT_DATE.
 *
 * XXX: the SET clause (house rule for every SQL function) keeps the planner
 * from inlining it; allocation queries still narrow the lots by product
 * and the partial index first, so it only runs on a product's open lots.
 */
CREATE FUNCTION inventory.lot_is_usable(
    p_expires_on date,
    p_as_of date,
    p_min_shelf_life_days integer DEFAULT 0)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p_expires_on IS NULL
        OR p_expires_on OPERATOR(pg_catalog.-) p_as_of
           OPERATOR(pg_catalog.>=)
           GREATEST(COALESCE(p_min_shelf_life_days, 0), 1)
$$;
COMMENT ON FUNCTION inventory.lot_is_usable(date, date, integer) IS
    'The shared expiry rule: usable before the expiry date, with at least the minimum shelf life left';

/*
 * allocate(product, quantity, demand_ref, strategy, locations, as_of,
 *          min_shelf_life_days, pack_multiple, all_or_nothing, dry_run,
 *          demand_line)
 *
 * Reserves quantity of a product for one demand line.  Returns one row per
 * lot taken (shortfall 0) and, when the demand cannot be met in full, one
 * row with lot_id NULL, quantity 0 and the missing quantity in shortfall.
 * See doc/fifo.md.
 */
CREATE FUNCTION inventory.allocate(
    p_product_id bigint,
    p_quantity numeric,
    p_demand_ref text,
    p_strategy text DEFAULT 'fifo',
    p_locations bigint[] DEFAULT NULL,
    p_as_of date DEFAULT NULL,
    p_min_shelf_life_days integer DEFAULT 0,
    p_pack_multiple numeric DEFAULT NULL,
    p_all_or_nothing boolean DEFAULT false,
    p_dry_run boolean DEFAULT false,
    p_demand_line integer DEFAULT 1)
RETURNS TABLE (
    demand_line integer,
    product_id bigint,
    lot_id bigint,
    location_id bigint,
    quantity numeric,
    expires_on date,
    allocation_id bigint,
    shortfall numeric)
LANGUAGE c
VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_allocate';

/*
 * allocate_lines(demand_ref, lines, strategy, locations, as_of,
 *                min_shelf_life_days, all_or_nothing, dry_run)
 *
 * Many demand lines in one call: lines is a jsonb array of objects
 * {"demand_line": int, "product_id": bigint, "quantity": numeric,
 *  "pack_multiple": numeric (optional)}.  The lots of every line are
 * locked together, in lot_id order, before any is allocated, and lines
 * are served in demand_line order from what earlier lines left, so the
 * same product on two lines never takes the same stock twice.
 * all_or_nothing applies to the whole call.  Same result rows as allocate.
 */
CREATE FUNCTION inventory.allocate_lines(
    p_demand_ref text,
    p_lines jsonb,
    p_strategy text DEFAULT 'fifo',
    p_locations bigint[] DEFAULT NULL,
    p_as_of date DEFAULT NULL,
    p_min_shelf_life_days integer DEFAULT 0,
    p_all_or_nothing boolean DEFAULT false,
    p_dry_run boolean DEFAULT false)
RETURNS TABLE (
    demand_line integer,
    product_id bigint,
    lot_id bigint,
    location_id bigint,
    quantity numeric,
    expires_on date,
    allocation_id bigint,
    shortfall numeric)
LANGUAGE c
VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_allocate_lines';

/*
 * commit_allocation(demand_ref, demand_line, shipped_at) -> integer
 *
 * Turns the reserved allocations of a demand (or of one of its lines)
 * into shipment rows of the ledger, reference 'allocation:<id>', and
 * reduces the lots' allocated quantity by as much as the shipment reduces
 * on-hand.  Returns the number of allocations committed; a second call
 * finds nothing reserved, changes nothing, says so in a NOTICE and
 * returns 0.
 */
CREATE FUNCTION inventory.commit_allocation(
    p_demand_ref text,
    p_demand_line integer DEFAULT NULL,
    p_shipped_at timestamptz DEFAULT pg_catalog.now())
RETURNS integer
LANGUAGE c
VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_commit_allocation';

/*
 * release_allocation(demand_ref, demand_line) -> integer
 *
 * Gives the reserved allocations of a demand (or of one line) back to
 * their lots.  Returns the number released; a second call is a no-op
 * that says so in a NOTICE and returns 0.
 */
CREATE FUNCTION inventory.release_allocation(
    p_demand_ref text,
    p_demand_line integer DEFAULT NULL)
RETURNS integer
LANGUAGE c
VOLATILE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'inv_release_allocation';
