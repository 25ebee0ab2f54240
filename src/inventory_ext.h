/*-------------------------------------------------------------------------
 *
 * inventory_ext.h
 *	  Declarations shared between the C files of inventory_ext.
 *
 * Each capability lives in its own file under src/; this header holds only
 * what more than one file needs: the GUC variables, the SPI helper layer
 * (spi_util.c, the only file that talks to SPI) and the advisory-lock keys.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/inventory_ext.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef INVENTORY_EXT_H
#define INVENTORY_EXT_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"

/*
 * First key of every advisory lock the extension takes, so that our locks
 * never collide with an application's.  The second key names the job (for
 * per-table jobs, the table's OID).  The value spells "INVE".
 */
#define INV_ADVISORY_KEY	0x494E5645

/* Second advisory-lock keys of jobs that are not per table */
#define INV_JOB_SUMMARY_REFRESH		1
#define INV_JOB_ROLLUP_CHECK		2

/* GUCs, defined in inventory_ext.c */
extern int	inv_lock_timeout_ms;
extern int	inv_lock_retries;
extern int	inv_archive_batch_size;
extern int	inv_future_limit_months;

/*
 * SPI helper layer (spi_util.c).
 *
 * inv_spi_connect/inv_spi_finish bracket a unit of SPI work.  Between them,
 * inv_spi_exec runs one statement with its values bound as $n parameters
 * and checks the SPI result code; results stay in SPI_tuptable until the
 * next call and are read with the getters, which copy values into the
 * memory context that was current at inv_spi_connect.
 */
extern void inv_spi_connect(void);
extern void inv_spi_finish(void);
extern void inv_spi_connect_nonatomic(bool atomic);
extern void inv_spi_commit(void);
extern uint64 inv_spi_exec(const char *sql, int nargs, const Oid *argtypes,
						   const Datum *values, const bool *isnull,
						   bool read_only, int expected);
extern SPIPlanPtr inv_spi_prepare_keep(const char *sql, int nargs,
									   const Oid *argtypes);
extern uint64 inv_spi_exec_plan(SPIPlanPtr plan, const Datum *values,
								const bool *isnull, bool read_only,
								int expected);
extern Datum inv_spi_getdatum(uint64 row, int col, bool *isnull);
extern Datum inv_spi_getdatum_copy(uint64 row, int col, bool *isnull);
extern char *inv_spi_gettext(uint64 row, int col);
extern int64 inv_spi_getint64(uint64 row, int col, bool *isnull);
extern bool inv_spi_getbool(uint64 row, int col, bool *isnull);

/* Transaction-scoped advisory lock on (INV_ADVISORY_KEY, key2); no wait. */
extern bool inv_try_advisory_xact_lock(int32 key2);

/*
 * Run a DDL statement that needs a strong lock: lock_timeout is set to
 * inventory_ext.lock_timeout for each attempt, a lock_not_available error
 * is caught and the attempt retried after a growing pause, at most
 * inventory_ext.lock_retries times.  Returns false when every attempt
 * timed out, leaving no trace of the attempts; any other error propagates.
 * SPI must be connected.
 */
extern bool inv_spi_exec_ddl_retry(const char *sql, const char *what);
extern Oid	inv_rel_owner(Oid relid);
extern char *inv_rel_qualname(Oid relid);

/* Cursors for large results (spi_util.c); SPI must be connected. */
extern Portal inv_spi_cursor_open(const char *sql, int nargs,
								  const Oid *argtypes, const Datum *values,
								  const bool *isnull, bool read_only);
extern uint64 inv_spi_cursor_fetch(Portal portal, long count);
extern void inv_spi_cursor_close(Portal portal);

/* Reorder analysis (reorder.c) */
extern double inv_reorder_normal_quantile(double p);

#endif							/* INVENTORY_EXT_H */
