-- Loader: Online Retail CSV format, rejects, opening lots, duplicates.
SET client_min_messages = warning;
\set VERBOSITY terse
-- each test file starts from a fresh extension
DROP EXTENSION IF EXISTS inventory_ext CASCADE;
CREATE EXTENSION inventory_ext;
SET TimeZone = 'America/New_York';

COPY inventory.retail_import_raw (invoice_no, stock_code, description,
    quantity, invoice_date, unit_price, customer_ref, country)
FROM stdin WITH (FORMAT csv);
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,P00001,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,P00001,United Kingdom
536366,85123A,WHITE HANGING HEART T-LIGHT HOLDER,10,12/2/2010 9:05,2.55,P00002,France
536367,85123a,,4,2010-12-03 10:00:00,2.40,,United Kingdom
C536368,85123A,WHITE HANGING HEART T-LIGHT HOLDER,-3,2010-12-04 11:00:00,2.55,P00001,United Kingdom
536369,71053,damaged,-2,2010-12-05 12:00:00,0,,United Kingdom
536370,85123A,WHITE HANGING HEART T-LIGHT HOLDER,12,2011-01-04 09:00:00,2.55,P00003,United Kingdom
536370,85123A,WHITE HANGING HEART T-LIGHT HOLDER,12,2011-01-04 09:00:00,2.55,P00003,United Kingdom
536371,85123A,WHITE HANGING HEART T-LIGHT HOLDER,5,2011-03-27 01:30:00,2.55,,United Kingdom
536380,,NO CODE,1,2010-12-01 08:26:00,1,,United Kingdom
536381,22222,ZERO,0,2010-12-01 08:26:00,1,,United Kingdom
536382,22222,BAD DATE,1,2010-02-30 08:26:00,1,,United Kingdom
536383,22222,BAD QTY,1.5,2010-12-01 08:26:00,1,,United Kingdom
536384,22222,NO COUNTRY,1,2010-12-01 08:26:00,1,,
C536385,22222,POSITIVE CANCEL,1,2010-12-01 08:26:00,1,,France
536386,22222,GARBLED DATE,1,yesterday,1,,France
\.

SELECT * FROM inventory.import_online_retail();
SELECT line_no, reason, invoice_no, stock_code
FROM inventory.retail_import_rejects ORDER BY line_no;

-- one organisation in Europe/London; countries became locations
SELECT code, time_zone FROM inventory.organizations;
SELECT code FROM inventory.locations ORDER BY location_id;
-- stock codes became products, case-insensitively, first description
SELECT sku, name, unit_cost FROM inventory.products ORDER BY product_id;

-- dates are London local time, whatever the session's zone
SELECT t.reference, t.txn_type, t.quantity,
       t.created_at AT TIME ZONE 'Europe/London' AS london
FROM inventory.transactions t
WHERE t.txn_type <> 'receipt'
ORDER BY t.created_at, t.reference;

-- opening lots: one per product, location and month, never below zero
SELECT p.sku, l.code, lot.lot_code,
       lot.received_at AT TIME ZONE 'Europe/London' AS received,
       r.quantity AS received_qty, lot.qty_on_hand
FROM inventory.lots lot
JOIN inventory.products p USING (product_id)
JOIN inventory.locations l USING (location_id)
JOIN inventory.transactions r
  ON r.lot_id = lot.lot_id AND r.txn_type = 'receipt'
ORDER BY lot.lot_id;
SELECT count(*) AS negative_lots FROM inventory.lots WHERE qty_on_hand < 0;
-- the ledger is the source of truth for on-hand
SELECT bool_and(l.qty_on_hand = s.total) AS lots_match_ledger
FROM inventory.lots l
JOIN (SELECT lot_id, sum(quantity) AS total
      FROM inventory.transactions GROUP BY lot_id) s USING (lot_id);

-- loading the same rows again records nothing twice
COPY inventory.retail_import_raw (invoice_no, stock_code, description,
    quantity, invoice_date, unit_price, customer_ref, country)
FROM stdin WITH (FORMAT csv);
536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,P00001,United Kingdom
536365,71053,WHITE METAL LANTERN,6,2010-12-01 08:26:00,3.39,P00001,United Kingdom
\.
SELECT * FROM inventory.import_online_retail();
SELECT count(*) AS ledger_rows FROM inventory.transactions;

-- bad arguments change nothing
SELECT * FROM inventory.import_online_retail(p_time_zone => 'Mars/Olympus');
SELECT * FROM inventory.import_online_retail(p_buffer => -1);
SELECT * FROM inventory.import_online_retail(NULL);

-- the timestamp parser itself
SELECT s, inventory.parse_retail_timestamp(s)
FROM unnest(ARRAY['2011-12-09 12:50:00', '12/9/2011 12:50', '2012-02-29 00:00',
                  '2011-02-29 00:00', '2011-13-01 00:00', '2011-12-09 24:00',
                  '1/1/2011 7:5', ' 2011-01-01 07:05 ', '']) s;
