/*-------------------------------------------------------------------------
 *
 * inventory_ext.c
 *	  Module entry: the magic block, _PG_init and the extension's GUCs.
 *
 * All settings are named inventory_ext.<name> and defined here, so that a
 * DBA finds them in one place; the prefix is reserved afterwards so a typo
 * in postgresql.conf is reported instead of silently ignored.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/inventory_ext.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "inventory_ext.h"

PG_MODULE_MAGIC;

int			inv_lock_timeout_ms = 100;
int			inv_lock_retries = 5;
int			inv_archive_batch_size = 10000;
int			inv_future_limit_months = 24;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("inventory_ext.lock_timeout",
							gettext_noop("Longest wait for a lock before each DDL attempt of maintenance or archival gives up."),
							gettext_noop("Writers queue behind a waiting DDL lock request, so keep this short; attempts are retried with a growing pause."),
							&inv_lock_timeout_ms,
							100, 1, 600000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("inventory_ext.lock_retries",
							gettext_noop("Attempts made to obtain a DDL lock before the object is skipped."),
							NULL,
							&inv_lock_retries,
							5, 1, 100,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("inventory_ext.archive_batch_size",
							gettext_noop("Rows moved per committed batch when archival moves part of a month."),
							NULL,
							&inv_archive_batch_size,
							10000, 1, 10000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("inventory_ext.future_limit_months",
							gettext_noop("Months beyond the current one for which maintenance still creates a partition to hold a stray row."),
							gettext_noop("Rows dated further ahead are reported and left in the default partition."),
							&inv_future_limit_months,
							24, 0, 1200,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("inventory_ext");
}
