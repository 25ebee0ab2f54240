/*-------------------------------------------------------------------------
 *
 * partition.c
 *	  Monthly range partitions of registered tables, and their maintenance.
 *
 * A registered table is partitioned by RANGE on one column of type
 * timestamptz, timestamp or date.  Its policy (inventory.partition_policies)
 * fixes the time zone whose calendar months define the bounds, so a bound
 * never depends on the session that happened to run maintenance: month
 * starts are computed here in C, from the policy's zone, and written into
 * DDL as absolute literals.
 *
 * Existing partitions are always judged by their real bounds, read from
 * pg_class.relpartbound and decoded as values of the partition key's type
 * (never by their names, never as text).  A month is "covered" when one
 * partition's range contains it; a month that only partly overlaps a
 * partition is reported and left alone.
 *
 * Locking rules:
 *	- maintenance of one table first takes the transaction-scoped advisory
 *	  lock (INV_ADVISORY_KEY, parent oid) without waiting; a second
 *	  concurrent run skips the table;
 *	- no relation lock is taken without a bound: catalog facts are read
 *	  from the syscache, and every statement that locks a table runs
 *	  through inv_spi_exec_ddl_retry (inventory_ext.lock_timeout per
 *	  attempt, inventory_ext.lock_retries attempts).  When the locks cannot
 *	  be had, the table is reported as skipped and maintenance moves on;
 *	- a new partition is made as a standalone table, filled with the rows
 *	  of its month taken from the default partition, then attached: ATTACH
 *	  needs only SHARE UPDATE EXCLUSIVE on the parent.  The whole sequence
 *	  is one statement list run in one subtransaction, so a timeout leaves
 *	  nothing half done.  When rows move, the parent (SHARE UPDATE
 *	  EXCLUSIVE) is locked before the default partition (ACCESS
 *	  EXCLUSIVE), the order ATTACH itself uses;
 *	- retention's DROP and DETACH take ACCESS EXCLUSIVE on the parent and
 *	  the partition, bounded the same way.
 *
 * Moved ledger rows keep all their column values (txn_id included) and are
 * written straight into the new table, never through the parent, so the
 * parent's statement triggers do not count them a second time.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/partition.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_partitioned_table.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgtime.h"
#include "portability/instr_time.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/date.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "inventory_ext.h"

PG_FUNCTION_INFO_V1(inv_register_partitioned_table);
PG_FUNCTION_INFO_V1(inv_unregister_partitioned_table);
PG_FUNCTION_INFO_V1(inv_create_partition);
PG_FUNCTION_INFO_V1(inv_create_partitions);
PG_FUNCTION_INFO_V1(inv_run_maintenance);
PG_FUNCTION_INFO_V1(inv_run_maintenance_proc);
PG_FUNCTION_INFO_V1(inv_partition_bounds);

/* Key values of all three types are handled as int64; these stand for
 * MINVALUE and MAXVALUE bounds. */
#define KEY_MIN		PG_INT64_MIN
#define KEY_MAX		PG_INT64_MAX

/* Months are numbered year * 12 + (month - 1) */
#define MONTH_INDEX(y, m)	((y) * 12 + (m) - 1)
#define MI_YEAR(mi)			((mi) / 12)
#define MI_MONTH(mi)		((mi) % 12 + 1)

/* Months a single create_partitions call may make */
#define INV_MAX_MONTHS_PER_CALL	1200

/* A registered table, as maintenance sees it */
typedef struct InvPolicy
{
	Oid			parent;
	Oid			nspid;
	char	   *nspname;
	char	   *relname;
	char	   *qualname;		/* quoted, schema-qualified */
	char	   *column;
	Oid			keytype;
	char	   *zone;
	pg_tz	   *tz;
	int			premake;
	bool		has_retention;
	Interval	retention;
	char	   *action;
	char	   *template_table; /* options.template_table, or NULL */
	Oid			default_part;	/* InvalidOid when the table has none */
} InvPolicy;

/* One partition and its real bounds */
typedef struct InvPart
{
	Oid			relid;
	int64		lower;
	int64		upper;
} InvPart;

/* What ensure_month found or did */
typedef enum InvMonthResult
{
	MONTH_CREATED,
	MONTH_EXISTS,				/* a partition with exactly these bounds */
	MONTH_COVERED,				/* inside a wider partition */
	MONTH_OVERLAP,				/* partly overlaps another partition */
	MONTH_LOCKED				/* locks not obtained in time */
} InvMonthResult;

/* What maintenance reports, in the order its summary lists them */
static const char *const inv_actions[] = {
	"created", "dropped", "detached", "archived", "skipped", "stray"
};
#define INV_NUM_ACTIONS lengthof(inv_actions)

/* Output and counters of one maintenance run */
typedef struct InvRun
{
	Tuplestorestate *tupstore;
	TupleDesc	tupdesc;
	int64		run_id;
	TimestampTz now;
	int			created;
	int			dropped;
	int			detached;
	int			archived;
	int			skipped;
	int			stray;
	int64		moved;
	int			table_counts[INV_NUM_ACTIONS];	/* of the current table */
} InvRun;

/* ----------------------------------------------------------------
 * Calendar arithmetic, all in the policy's zone
 * ----------------------------------------------------------------
 */

/* Start of month mi as a key value */
static int64
month_start(InvPolicy *pol, int mi)
{
	struct pg_tm tm;
	Timestamp	ts;

	if (mi < MONTH_INDEX(1, 1) || mi > MONTH_INDEX(9999, 12) + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("month %d-%02d is out of range", MI_YEAR(mi),
						MI_MONTH(mi)),
				 errdetail("Partitions can be made for years 1 to 9999.")));

	if (pol->keytype == DATEOID)
		return (int64) date2j(MI_YEAR(mi), MI_MONTH(mi), 1) -
			POSTGRES_EPOCH_JDATE;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = MI_YEAR(mi);
	tm.tm_mon = MI_MONTH(mi);
	tm.tm_mday = 1;
	if (pol->keytype == TIMESTAMPTZOID)
	{
		/* local midnight on the 1st, as an absolute instant */
		int			tz = DetermineTimeZoneOffset(&tm, pol->tz);

		if (tm2timestamp(&tm, 0, &tz, &ts) != 0)
			elog(ERROR, "timestamp out of range for month %d", mi);
	}
	else if (tm2timestamp(&tm, 0, NULL, &ts) != 0)
		elog(ERROR, "timestamp out of range for month %d", mi);
	return ts;
}

/* Local calendar fields of an instant in the policy's zone */
static void
local_time(InvPolicy *pol, TimestampTz t, struct pg_tm *tm)
{
	fsec_t		fsec;
	int			tz;

	if (TIMESTAMP_NOT_FINITE(t) ||
		timestamp2tm(t, &tz, tm, &fsec, NULL, pol->tz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reference time must be finite")));
}

/* An instant as a value of the partition key, in the policy's zone */
static int64
instant_as_key(InvPolicy *pol, TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	Timestamp	ts;

	if (pol->keytype == TIMESTAMPTZOID)
		return t;
	if (timestamp2tm(t, &tz, &tm, &fsec, NULL, pol->tz) != 0)
		elog(ERROR, "timestamp out of range");
	if (pol->keytype == DATEOID)
		return (int64) date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) -
			POSTGRES_EPOCH_JDATE;
	if (tm2timestamp(&tm, fsec, NULL, &ts) != 0)
		elog(ERROR, "timestamp out of range");
	return ts;
}

/*
 * Render a key value.  as_literal: for DDL, an unambiguous literal that
 * reads the same under any TimeZone and DateStyle (timestamptz in UTC);
 * otherwise for people, timestamptz shown in the policy's zone.
 */
static char *
key_text(InvPolicy *pol, int64 key, bool as_literal)
{
	char		buf[MAXDATELEN + 1];
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	const char *tzn;

	if (key == KEY_MIN)
		return pstrdup("MINVALUE");
	if (key == KEY_MAX)
		return pstrdup("MAXVALUE");
	if (pol->keytype == DATEOID)
	{
		if (DATE_NOT_FINITE((DateADT) key))
			return pstrdup(DATE_IS_NOBEGIN((DateADT) key) ? "-infinity" : "infinity");
		j2date((int) key + POSTGRES_EPOCH_JDATE,
			   &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
		EncodeDateOnly(&tm, USE_ISO_DATES, buf);
	}
	else if (TIMESTAMP_NOT_FINITE(key))
		return pstrdup(TIMESTAMP_IS_NOBEGIN(key) ? "-infinity" : "infinity");
	else if (pol->keytype == TIMESTAMPOID)
	{
		if (timestamp2tm(key, NULL, &tm, &fsec, NULL, NULL) != 0)
			elog(ERROR, "timestamp out of range");
		EncodeDateTime(&tm, fsec, false, 0, NULL, USE_ISO_DATES, buf);
	}
	else if (as_literal)
	{
		/*
		 * timestamptz's internal value is UTC: show it with offset +00, which
		 * EncodeDateTime prints only when tm_isdst is known.
		 */
		if (timestamp2tm(key, NULL, &tm, &fsec, NULL, NULL) != 0)
			elog(ERROR, "timestamp out of range");
		tm.tm_isdst = 0;
		EncodeDateTime(&tm, fsec, true, 0, NULL, USE_ISO_DATES, buf);
	}
	else
	{
		if (timestamp2tm(key, &tz, &tm, &fsec, &tzn, pol->tz) != 0)
			elog(ERROR, "timestamp out of range");
		EncodeDateTime(&tm, fsec, true, tz, tzn, USE_ISO_DATES, buf);
	}
	if (as_literal)
		return psprintf("%s::pg_catalog.%s", quote_literal_cstr(buf),
						pol->keytype == DATEOID ? "date" :
						pol->keytype == TIMESTAMPOID ? "timestamp" :
						"timestamptz");
	return pstrdup(buf);
}

/* The month a partition's lower bound opens, if it spans exactly it */
static bool
part_month(InvPolicy *pol, InvPart *p, int *mi)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	int			m;

	if (p->lower == KEY_MIN || p->upper == KEY_MAX)
		return false;
	if (pol->keytype == DATEOID)
	{
		if (DATE_NOT_FINITE((DateADT) p->lower))
			return false;
		j2date((int) p->lower + POSTGRES_EPOCH_JDATE,
			   &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
	}
	else if (TIMESTAMP_NOT_FINITE(p->lower) ||
			 timestamp2tm(p->lower, &tz, &tm, &fsec, NULL,
						  pol->keytype == TIMESTAMPTZOID ? pol->tz : NULL) != 0)
		return false;
	if (tm.tm_year < 1 || tm.tm_year > 9999)
		return false;
	m = MONTH_INDEX(tm.tm_year, tm.tm_mon);
	if (month_start(pol, m) != p->lower || month_start(pol, m + 1) != p->upper)
		return false;
	*mi = m;
	return true;
}

/* ----------------------------------------------------------------
 * Catalog reading (syscache only: no relation locks)
 * ----------------------------------------------------------------
 */

static int64
range_datum_key(PartitionRangeDatum *prd, Oid keytype)
{
	Const	   *c;

	if (prd->kind == PARTITION_RANGE_DATUM_MINVALUE)
		return KEY_MIN;
	if (prd->kind == PARTITION_RANGE_DATUM_MAXVALUE)
		return KEY_MAX;
	c = castNode(Const, prd->value);
	if (c->consttype != keytype)
		elog(ERROR, "partition bound of type %u, expected %u",
			 c->consttype, keytype);
	if (keytype == DATEOID)
		return (int64) DatumGetDateADT(c->constvalue);
	return DatumGetInt64(c->constvalue);
}

static int
part_cmp(const void *a, const void *b)
{
	const InvPart *pa = a;
	const InvPart *pb = b;

	if (pa->lower != pb->lower)
		return pa->lower < pb->lower ? -1 : 1;
	return 0;
}

/*
 * load_partitions
 *		The parent's range partitions with their bounds, sorted by lower
 *		bound, in *parts (palloc'd); returns the count.  The default
 *		partition is left out (it is pol->default_part).
 */
static int
load_partitions(InvPolicy *pol, InvPart **parts)
{
	List	   *children = find_inheritance_children(pol->parent, NoLock);
	ListCell   *lc;
	int			n = 0;

	*parts = palloc0(sizeof(InvPart) * (list_length(children) + 1));
	foreach(lc, children)
	{
		Oid			relid = lfirst_oid(lc);
		HeapTuple	tuple;
		Datum		d;
		bool		isnull;
		PartitionBoundSpec *spec;

		tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		if (!HeapTupleIsValid(tuple))
			continue;			/* dropped meanwhile */
		d = SysCacheGetAttr(RELOID, tuple, Anum_pg_class_relpartbound,
							&isnull);
		if (isnull)
		{
			ReleaseSysCache(tuple);
			continue;
		}
		spec = castNode(PartitionBoundSpec,
						stringToNode(TextDatumGetCString(d)));
		ReleaseSysCache(tuple);
		if (spec->is_default || spec->strategy != PARTITION_STRATEGY_RANGE)
			continue;
		(*parts)[n].relid = relid;
		(*parts)[n].lower = range_datum_key(linitial(spec->lowerdatums),
											pol->keytype);
		(*parts)[n].upper = range_datum_key(linitial(spec->upperdatums),
											pol->keytype);
		n++;
	}
	qsort(*parts, n, sizeof(InvPart), part_cmp);
	return n;
}

/*
 * check_parent
 *		Validate that relid is partitioned by RANGE on one plain column of
 *		a supported type; return the column's name and type.
 */
static void
check_parent(Oid relid, char **colname, Oid *keytype)
{
	HeapTuple	tuple;
	Form_pg_partitioned_table part;
	AttrNumber	attnum;
	char		relkind = get_rel_relkind(relid);
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table with OID %u does not exist", relid)));
	if (relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is not partitioned", name),
				 errhint("Create the table with PARTITION BY RANGE on its time column.")));

	tuple = SearchSysCache1(PARTRELID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for partition key of relation %u",
			 relid);
	part = (Form_pg_partitioned_table) GETSTRUCT(tuple);
	if (part->partstrat != PARTITION_STRATEGY_RANGE || part->partnatts != 1 ||
		part->partattrs.values[0] == 0)
	{
		ReleaseSysCache(tuple);
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" is not partitioned by range on a single column",
						name),
				 errdetail("Only PARTITION BY RANGE (column) is supported, without expressions or further key columns.")));
	}
	attnum = part->partattrs.values[0];
	ReleaseSysCache(tuple);

	*colname = get_attname(relid, attnum, false);
	*keytype = get_atttype(relid, attnum);
	if (*keytype != TIMESTAMPTZOID && *keytype != TIMESTAMPOID &&
		*keytype != DATEOID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("partition column \"%s\" of table \"%s\" has unsupported type %s",
						*colname, name, format_type_be(*keytype)),
				 errdetail("The partition column must be of type timestamptz, timestamp or date.")));
}

/* Error unless the current user owns the table */
static void
check_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be owner of table \"%s\"", get_rel_name(relid))));
}

/*
 * server_time_zone
 *		The TimeZone a RESET would restore: postgresql.conf, or ALTER
 *		DATABASE / ROLE ... SET.  A SET in the session never counts.  When
 *		the client chose the zone in its connection request (PGTZ, JDBC and
 *		other drivers do), that is the caller's zone, not the server's, and
 *		there is no server value left to fall back on: refuse, so that the
 *		bounds of a shared table never follow whoever happened to register
 *		it.
 */
static const char *
server_time_zone(void)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();
	int			i;

	for (i = 0; i < n; i++)
	{
		if (pg_strcasecmp(vars[i]->name, "TimeZone") != 0)
			continue;
		if (vars[i]->reset_source >= PGC_S_CLIENT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time zone of the partition bounds must be given"),
					 errdetail("This session's TimeZone \"%s\" was chosen by the client when it connected, not by the server's configuration.",
							   GetConfigOptionResetString("TimeZone")),
					 errhint("Pass the zone whose calendar months define the partitions, such as 'Europe/London'.")));
		break;
	}
	return GetConfigOptionResetString("TimeZone");
}

/* Look up a time zone by name; NULL when there is no such zone */
static pg_tz *
find_zone(const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) >= TZ_STRLEN_MAX)
		return NULL;
	return pg_tzset(name);
}

/*
 * load_policies
 *		Read the registered policies (all, or the one of parent) into a
 *		List of InvPolicy, in the order of the parents' names.  SPI must be
 *		connected; the list lives in the context current at connect.
 */
static List *
load_policies(Oid parent)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	bool		nulls[1];
	uint64		n;
	uint64		i;
	List	   *result = NIL;

	values[0] = ObjectIdGetDatum(parent);
	nulls[0] = !OidIsValid(parent);
	n = inv_spi_exec(
					 "SELECT p.parent::pg_catalog.oid, p.column_type::pg_catalog.oid, "
					 "p.time_zone, p.premake_months, p.retention, p.retention_action, "
					 "p.options OPERATOR(pg_catalog.->>) 'template_table' "
					 "FROM inventory.partition_policies p "
					 "WHERE $1 IS NULL OR p.parent::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
					 "ORDER BY p.parent::pg_catalog.text COLLATE \"C\"",
					 1, types, values, nulls, false, SPI_OK_SELECT);

	for (i = 0; i < n; i++)
	{
		InvPolicy  *pol = palloc0(sizeof(InvPolicy));
		bool		isnull;
		Datum		d;

		pol->parent = DatumGetObjectId(inv_spi_getdatum(i, 1, &isnull));
		pol->keytype = DatumGetObjectId(inv_spi_getdatum(i, 2, &isnull));
		pol->zone = inv_spi_gettext(i, 3);
		pol->tz = find_zone(pol->zone);
		pol->premake = (int) inv_spi_getint64(i, 4, &isnull);
		d = inv_spi_getdatum_copy(i, 5, &isnull);
		pol->has_retention = !isnull;
		if (!isnull)
			pol->retention = *DatumGetIntervalP(d);
		pol->action = inv_spi_gettext(i, 6);
		pol->template_table = inv_spi_gettext(i, 7);
		result = lappend(result, pol);
	}
	return result;
}

/*
 * policy_bind_table
 *		Fill in the catalog facts of a policy's table.  Returns false when
 *		the table no longer exists or no longer fits the policy.
 *
 * XXX: a registered table that is dropped keeps its policy row (there is
 * no event trigger); maintenance reports it until it is unregistered.
 */
static bool
policy_bind_table(InvPolicy *pol)
{
	HeapTuple	tuple;
	Form_pg_partitioned_table part;

	pol->relname = get_rel_name(pol->parent);
	if (pol->relname == NULL ||
		get_rel_relkind(pol->parent) != RELKIND_PARTITIONED_TABLE)
		return false;
	pol->nspid = get_rel_namespace(pol->parent);
	pol->nspname = get_namespace_name(pol->nspid);
	pol->qualname = quote_qualified_identifier(pol->nspname, pol->relname);

	tuple = SearchSysCache1(PARTRELID, ObjectIdGetDatum(pol->parent));
	if (!HeapTupleIsValid(tuple))
		return false;
	part = (Form_pg_partitioned_table) GETSTRUCT(tuple);
	pol->default_part = part->partdefid;
	pol->column = get_attname(pol->parent, part->partattrs.values[0], false);
	ReleaseSysCache(tuple);
	return pol->tz != NULL;
}

/* The policy of one table, bound to its catalog facts; error if absent */
static InvPolicy *
get_policy(Oid parent)
{
	List	   *pols = load_policies(parent);
	InvPolicy  *pol;

	if (pols == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not registered for partition management",
						get_rel_name(parent)),
				 errhint("Register it with inventory.register_partitioned_table().")));
	pol = linitial(pols);
	if (!policy_bind_table(pol))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" no longer matches its partition policy",
						get_rel_name(parent))));
	return pol;
}

/* ----------------------------------------------------------------
 * Creating the partition of a month
 * ----------------------------------------------------------------
 */

/*
 * choose_partition_name
 *		<parent>_pYYYYMM, at most NAMEDATALEN - 1 bytes.  A parent name too
 *		long for that is clipped (on a character boundary) and followed by
 *		a hash of the full name, so that two long parents sharing a prefix
 *		still get different names; a name already taken in the schema
 *		(a detached partition, a user's table) gets a counter.
 */
static char *
choose_partition_name(InvPolicy *pol, int mi)
{
	char		suffix[32];
	char		hash[16];
	const char *base = pol->relname;
	int			baselen = strlen(base);
	int			n;

	snprintf(suffix, sizeof(suffix), "_p%04d%02d", MI_YEAR(mi), MI_MONTH(mi));
	snprintf(hash, sizeof(hash), "_%08x",
			 hash_bytes((const unsigned char *) base, baselen));

	for (n = 0;; n++)
	{
		char		counter[16] = "";
		int			room;
		char	   *name;

		if (n > 0)
			snprintf(counter, sizeof(counter), "_%d", n);
		room = NAMEDATALEN - 1 - strlen(suffix) - strlen(counter);
		if (baselen <= room)
			name = psprintf("%s%s%s", base, suffix, counter);
		else
		{
			int			keep = pg_mbcliplen(base, baselen,
											room - (int) strlen(hash));

			name = psprintf("%.*s%s%s%s", keep, base, hash, suffix, counter);
		}
		if (!OidIsValid(get_relname_relid(name, pol->nspid)))
			return name;
		CHECK_FOR_INTERRUPTS();
	}
}

/* Comma-separated quoted list of the columns a row copy must carry */
static char *
copy_column_list(Oid relid)
{
	StringInfoData buf;
	HeapTuple	tuple;
	AttrNumber	attnum;
	int			natts;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	natts = ((Form_pg_class) GETSTRUCT(tuple))->relnatts;
	ReleaseSysCache(tuple);

	initStringInfo(&buf);
	for (attnum = 1; attnum <= natts; attnum++)
	{
		HeapTuple	atup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
										   Int16GetDatum(attnum));
		Form_pg_attribute att;

		if (!HeapTupleIsValid(atup))
			continue;
		att = (Form_pg_attribute) GETSTRUCT(atup);
		/* generated columns are computed again by the target */
		if (!att->attisdropped && att->attgenerated == '\0')
			appendStringInfo(&buf, "%s%s", buf.len > 0 ? ", " : "",
							 quote_identifier(NameStr(att->attname)));
		ReleaseSysCache(atup);
	}
	return buf.data;
}

/*
 * copy_grants
 *		Give a new partition exactly the table privileges of the parent's
 *		ACL.  The table may carry grants from default privileges (ALTER
 *		DEFAULT PRIVILEGES) that the parent does not have; those are
 *		revoked first.  SPI must be connected, the table locked by this
 *		transaction, and the current user the table's owner.
 */
static void
copy_grants(InvPolicy *pol, const char *target)
{
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	uint64		n;
	uint64		i;
	StringInfoData sql;

	initStringInfo(&sql);

	/* grants the new table got from default privileges */
	values[0] = ObjectIdGetDatum(pol->parent);
	values[1] = CStringGetTextDatum(target);
	n = inv_spi_exec(
					 "SELECT DISTINCT a.grantee::pg_catalog.oid "
					 "FROM pg_catalog.pg_class c, "
					 "pg_catalog.aclexplode(c.relacl) a "
					 "WHERE c.oid OPERATOR(pg_catalog.=) "
					 "$2::pg_catalog.regclass::pg_catalog.oid "
					 "AND a.grantee OPERATOR(pg_catalog.<>) c.relowner "
					 "ORDER BY 1",
					 2, types, values, NULL, false, SPI_OK_SELECT);
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Oid			grantee = DatumGetObjectId(inv_spi_getdatum(i, 1, &isnull));

		appendStringInfo(&sql, "REVOKE ALL ON TABLE %s FROM %s;\n", target,
						 OidIsValid(grantee) ?
						 quote_identifier(GetUserNameFromId(grantee, false)) :
						 "PUBLIC");
	}

	/*
	 * XXX: table-level grants only, each made as the owner; column grants of
	 * the parent are not copied, and a grant the parent received from a third
	 * role is recorded on the partition as granted by the owner.
	 */
	n = inv_spi_exec(
					 "SELECT a.privilege_type, a.grantee::pg_catalog.oid, a.is_grantable "
					 "FROM pg_catalog.pg_class c, "
					 "pg_catalog.aclexplode(c.relacl) a "
					 "WHERE c.oid OPERATOR(pg_catalog.=) $1 "
					 "AND a.grantee OPERATOR(pg_catalog.<>) c.relowner "
					 "ORDER BY 2, 1",
					 1, types, values, NULL, false, SPI_OK_SELECT);
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		char	   *priv = inv_spi_gettext(i, 1);
		Oid			grantee = DatumGetObjectId(inv_spi_getdatum(i, 2, &isnull));
		bool		grantable = inv_spi_getbool(i, 3, &isnull);

		appendStringInfo(&sql, "GRANT %s ON TABLE %s TO %s%s;\n", priv, target,
						 OidIsValid(grantee) ?
						 quote_identifier(GetUserNameFromId(grantee, false)) :
						 "PUBLIC",
						 grantable ? " WITH GRANT OPTION" : "");
	}
	if (sql.len > 0)
		inv_spi_exec(sql.data, 0, NULL, NULL, NULL, false, 0);
}

/*
 * copy_template_indexes
 *		Create on a new partition each index of the policy's template
 *		table, under a name PostgreSQL chooses (unique, at most 63 bytes).
 *		The definition is pg_get_indexdef's, with the part naming the index
 *		and its table replaced; a definition that does not start as
 *		expected is reported and skipped rather than edited blindly.  A
 *		template that no longer exists is reported.  SPI connected, the
 *		table locked by this transaction.
 *
 * XXX: an index that fails to build (a column the partition lacks, a
 * unique index the moved rows violate) aborts the table's maintenance.
 */
static void
copy_template_indexes(InvPolicy *pol, const char *target)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	uint64		n;
	uint64		i;
	bool		isnull;
	Oid			tmpl;
	char	   *tmpl_name;
	List	   *stmts = NIL;
	ListCell   *lc;

	values[0] = CStringGetTextDatum(pol->template_table);
	inv_spi_exec("SELECT pg_catalog.to_regclass($1)::pg_catalog.oid",
				 1, types, values, NULL, false, SPI_OK_SELECT);
	tmpl = DatumGetObjectId(inv_spi_getdatum(0, 1, &isnull));
	if (isnull || get_rel_relkind(tmpl) != RELKIND_RELATION)
	{
		ereport(WARNING,
				(errmsg("template table \"%s\" of table %s does not exist; partition %s made without its indexes",
						pol->template_table, pol->qualname, target)));
		return;
	}
	tmpl_name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(tmpl)),
										   get_rel_name(tmpl));

	types[0] = OIDOID;
	values[0] = ObjectIdGetDatum(tmpl);
	n = inv_spi_exec("SELECT pg_catalog.pg_get_indexdef(i.indexrelid), "
					 "c.relname, i.indisunique "
					 "FROM pg_catalog.pg_index i "
					 "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid "
					 "WHERE i.indrelid OPERATOR(pg_catalog.=) $1 "
					 "ORDER BY c.relname COLLATE \"C\"",
					 1, types, values, NULL, false, SPI_OK_SELECT);
	for (i = 0; i < n; i++)
	{
		char	   *def = inv_spi_gettext(i, 1);
		char	   *idxname = inv_spi_gettext(i, 2);
		bool		unique = inv_spi_getbool(i, 3, &isnull);
		char	   *prefix;

		prefix = psprintf("CREATE %sINDEX %s ON %s USING ",
						  unique ? "UNIQUE " : "",
						  quote_identifier(idxname), tmpl_name);
		if (strncmp(def, prefix, strlen(prefix)) != 0)
		{
			ereport(WARNING,
					(errmsg("index \"%s\" of template table %s not copied to partition %s",
							idxname, tmpl_name, target),
					 errdetail("Its definition has an unexpected form: %s", def)));
			continue;
		}
		stmts = lappend(stmts, psprintf("CREATE %sINDEX ON %s USING %s",
										unique ? "UNIQUE " : "", target,
										def + strlen(prefix)));
	}
	foreach(lc, stmts)
		inv_spi_exec(lfirst(lc), 0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
}

/*
 * lock_default
 *		Take ACCESS SHARE on the default partition, bounded by the lock
 *		timeout, so that reading it never waits behind a long lock.
 *		Returns false when the lock was not obtained.  SPI connected.
 */
static bool
lock_default(InvPolicy *pol)
{
	char	   *name;

	if (!OidIsValid(pol->default_part))
		return true;
	name = inv_rel_qualname(pol->default_part);
	if (name == NULL)
		return true;
	return inv_spi_exec_ddl_retry(psprintf("LOCK TABLE ONLY %s IN ACCESS SHARE MODE",
										   name), name);
}

/*
 * ensure_month
 *		Make the partition of month mi unless one covers it.  Rows of the
 *		month found in the default partition are moved into the new table
 *		before it is attached.  *partname gets the name of the partition
 *		made or found (or of the one in the way), *moved the rows moved.
 *		SPI must be connected and the default partition locked with
 *		lock_default.
 */
static InvMonthResult
ensure_month(InvPolicy *pol, InvPart *parts, int nparts, int mi,
			 char **partname, int64 *moved)
{
	int64		lo = month_start(pol, mi);
	int64		hi = month_start(pol, mi + 1);
	char	   *lo_lit;
	char	   *hi_lit;
	char	   *name;
	char	   *target;
	const char *col = quote_identifier(pol->column);
	char	   *defname = NULL;
	StringInfoData sql;
	int			i;
	bool		isnull;
	Oid			save_userid;
	int			save_sec;

	*moved = 0;
	for (i = 0; i < nparts; i++)
	{
		InvPart    *p = &parts[i];

		if (p->lower >= hi || p->upper <= lo)
			continue;
		*partname = inv_rel_qualname(p->relid);
		if (*partname == NULL)
			*partname = psprintf("%u", p->relid);
		if (p->lower == lo && p->upper == hi)
			return MONTH_EXISTS;
		if (p->lower <= lo && p->upper >= hi)
			return MONTH_COVERED;
		return MONTH_OVERLAP;
	}

	lo_lit = key_text(pol, lo, true);
	hi_lit = key_text(pol, hi, true);

	if (OidIsValid(pol->default_part))
		defname = inv_rel_qualname(pol->default_part);

	name = choose_partition_name(pol, mi);
	target = quote_qualified_identifier(pol->nspname, name);
	*partname = target;

	/*
	 * One statement list, run in one subtransaction: it all happens or, on a
	 * lock timeout, none of it.  With a default partition, the rows of the
	 * month are always moved, even when none were seen before: ATTACH takes
	 * ACCESS EXCLUSIVE on the default partition and scans it anyway, and a
	 * row that a writer added since would otherwise make ATTACH fail.
	 */
	initStringInfo(&sql);
	if (defname != NULL)
		appendStringInfo(&sql,
						 "LOCK TABLE ONLY %s IN SHARE UPDATE EXCLUSIVE MODE;\n"
						 "LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE;\n",
						 pol->qualname, defname);
	appendStringInfo(&sql,
					 "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS "
					 "INCLUDING CONSTRAINTS INCLUDING GENERATED "
					 "INCLUDING STORAGE INCLUDING COMPRESSION);\n",
					 target, pol->qualname);
	if (defname != NULL)
	{
		char	   *cols = copy_column_list(pol->parent);

		/* straight into the new table, never through the parent */
		appendStringInfo(&sql,
						 "WITH moved AS (DELETE FROM ONLY %s "
						 "WHERE %s OPERATOR(pg_catalog.>=) %s "
						 "AND %s OPERATOR(pg_catalog.<) %s RETURNING %s) "
						 "INSERT INTO %s (%s) SELECT %s FROM moved;\n",
						 defname, col, lo_lit, col, hi_lit, cols,
						 target, cols, cols);
	}
	appendStringInfo(&sql,
					 "ALTER TABLE %s ATTACH PARTITION %s "
					 "FOR VALUES FROM (%s) TO (%s);\n",
					 pol->qualname, target, lo_lit, hi_lit);

	/*
	 * The partition is made by the parent's owner, whoever runs maintenance
	 * (a superuser's pg_cron job, a member of the owner role): so it is the
	 * owner's from the start, and its grants are recorded as the owner's.
	 * The caller passed the ownership check, so this grants nothing new; as
	 * for autovacuum, the switch is a restricted operation.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(inv_rel_owner(pol->parent),
						   save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	if (!inv_spi_exec_ddl_retry(sql.data, target))
	{
		SetUserIdAndSecContext(save_userid, save_sec);
		return MONTH_LOCKED;
	}
	/* we hold ACCESS EXCLUSIVE on the new table: nothing below waits */
	copy_grants(pol, target);
	if (pol->template_table != NULL)
		copy_template_indexes(pol, target);
	SetUserIdAndSecContext(save_userid, save_sec);

	if (defname != NULL)
	{
		inv_spi_exec(psprintf("SELECT pg_catalog.count(*) FROM ONLY %s",
							  target),
					 0, NULL, NULL, NULL, false, SPI_OK_SELECT);
		*moved = inv_spi_getint64(0, 1, &isnull);
	}
	ereport(DEBUG1,
			(errmsg_internal("created partition %s of %s", target,
							 pol->qualname)));
	return MONTH_CREATED;
}

/* Month index of a date given to create_partition(s) */
static int
date_month(DateADT d)
{
	int			y,
				m,
				day;

	if (DATE_NOT_FINITE(d))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("month must be a finite date")));
	j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	if (y < 1 || y > 9999)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("month %d-%02d is out of range", y, m),
				 errdetail("Partitions can be made for years 1 to 9999.")));
	return MONTH_INDEX(y, m);
}

/* Create one month for create_partition(s); raises instead of skipping */
static void
create_month_or_error(InvPolicy *pol, int mi, Tuplestorestate *ts,
					  TupleDesc td)
{
	InvPart    *parts;
	int			nparts = load_partitions(pol, &parts);
	char	   *partname = NULL;
	int64		moved;
	InvMonthResult r;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	r = ensure_month(pol, parts, nparts, mi, &partname, &moved);
	if (r == MONTH_OVERLAP || r == MONTH_COVERED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("month %04d-%02d of table \"%s\" overlaps partition %s",
						MI_YEAR(mi), MI_MONTH(mi), pol->relname, partname),
				 errdetail("The month runs from %s to %s in time zone %s; the existing partition has other bounds.",
						   key_text(pol, month_start(pol, mi), false),
						   key_text(pol, month_start(pol, mi + 1), false),
						   pol->zone)));
	if (r == MONTH_LOCKED)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not lock partition %s", partname),
				 errhint("Another session holds a lock on table \"%s\" or its default partition; try again later or raise inventory_ext.lock_timeout.",
						 pol->relname)));

	values[0] = CStringGetTextDatum(partname);
	values[1] = CStringGetTextDatum(r == MONTH_CREATED ? "created" : "exists");
	values[2] = Int64GetDatum(moved);
	tuplestore_putvalues(ts, td, values, nulls);
}

/* Shared start of create_partition(s): policy, checks, advisory lock */
static InvPolicy *
start_create(Oid parent)
{
	InvPolicy  *pol;

	check_owner(parent);
	pol = get_policy(parent);
	if (!inv_try_advisory_xact_lock((int32) parent))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not lock table \"%s\" for partition changes",
						pol->relname),
				 errdetail("Partition maintenance of this table is running in another session."),
				 errhint("Try again when it has finished.")));
	if (!lock_default(pol))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not lock partition %s",
						inv_rel_qualname(pol->default_part)),
				 errhint("Another session holds a lock on the default partition; try again later.")));
	return pol;
}

/*
 * inv_create_partition
 *		create_partition(p_parent regclass, p_month date)
 *		RETURNS TABLE(partition text, action text, rows_moved bigint)
 *
 * Makes the partition of the calendar month containing p_month (in the
 * policy's zone), moving that month's rows out of the default partition.
 * action is 'created', or 'exists' when a partition with exactly these
 * bounds is already there (nothing changes).
 *
 * Locks: advisory (INV_ADVISORY_KEY, parent) without waiting; ACCESS SHARE
 * on the default partition; to attach, SHARE UPDATE EXCLUSIVE on the
 * parent and ACCESS EXCLUSIVE on the default partition, each wait bounded
 * by inventory_ext.lock_timeout and retried.
 *
 * Errors: 22004 null argument; 42501 not the owner; 42704 not registered;
 * 22023 month out of range; 55000 the month overlaps a partition with other
 * bounds; 55P03 maintenance running or locks not obtained.
 */
Datum
inv_create_partition(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	InvPolicy  *pol;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent and month must not be null")));
	InitMaterializedSRF(fcinfo, 0);

	inv_spi_connect();
	pol = start_create(PG_GETARG_OID(0));
	create_month_or_error(pol, date_month(PG_GETARG_DATEADT(1)),
						  rsinfo->setResult, rsinfo->setDesc);
	inv_spi_finish();
	return (Datum) 0;
}

/*
 * inv_create_partitions
 *		create_partitions(p_parent regclass, p_from date, p_to date)
 *		RETURNS TABLE(partition text, action text, rows_moved bigint)
 *
 * create_partition for every month from p_from's to p_to's, inclusive, at
 * most 1200 months.  Locks and errors as create_partition, plus 22023 when
 * p_to is before p_from or the range is too long.
 */
Datum
inv_create_partitions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	InvPolicy  *pol;
	int			from;
	int			to;
	int			mi;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent, first and last month must not be null")));
	from = date_month(PG_GETARG_DATEADT(1));
	to = date_month(PG_GETARG_DATEADT(2));
	if (to < from)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("last month is before first month")));
	if (to - from >= INV_MAX_MONTHS_PER_CALL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot create more than %d partitions in one call",
						INV_MAX_MONTHS_PER_CALL)));
	InitMaterializedSRF(fcinfo, 0);

	inv_spi_connect();
	pol = start_create(PG_GETARG_OID(0));
	for (mi = from; mi <= to; mi++)
	{
		CHECK_FOR_INTERRUPTS();
		create_month_or_error(pol, mi, rsinfo->setResult, rsinfo->setDesc);
	}
	inv_spi_finish();
	return (Datum) 0;
}

/* ----------------------------------------------------------------
 * Registration
 * ----------------------------------------------------------------
 */

/* Whether two tables have the same columns: names and types, in order */
static bool
same_column_shape(Oid a, Oid b)
{
	Oid			types[2] = {OIDOID, OIDOID};
	Datum		values[2];
	bool		isnull;

	values[0] = ObjectIdGetDatum(a);
	values[1] = ObjectIdGetDatum(b);
	inv_spi_exec(
				 "WITH c AS (SELECT a.attrelid, a.attname, a.atttypid, a.atttypmod, "
				 "pg_catalog.row_number() OVER (PARTITION BY a.attrelid "
				 "ORDER BY a.attnum) AS pos "
				 "FROM pg_catalog.pg_attribute a "
				 "WHERE a.attrelid OPERATOR(pg_catalog.=) ANY (ARRAY[$1, $2]) "
				 "AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) "
				 "SELECT NOT EXISTS (SELECT x.pos FROM c x "
				 "WHERE x.attrelid OPERATOR(pg_catalog.=) $1 "
				 "AND NOT EXISTS (SELECT 1 FROM c y "
				 "WHERE y.attrelid OPERATOR(pg_catalog.=) $2 "
				 "AND y.pos OPERATOR(pg_catalog.=) x.pos "
				 "AND y.attname OPERATOR(pg_catalog.=) x.attname "
				 "AND y.atttypid OPERATOR(pg_catalog.=) x.atttypid "
				 "AND y.atttypmod OPERATOR(pg_catalog.=) x.atttypmod)) "
				 "AND (SELECT pg_catalog.count(*) FROM c "
				 "WHERE c.attrelid OPERATOR(pg_catalog.=) $1) "
				 "OPERATOR(pg_catalog.=) (SELECT pg_catalog.count(*) FROM c "
				 "WHERE c.attrelid OPERATOR(pg_catalog.=) $2)",
				 2, types, values, NULL, false, SPI_OK_SELECT);
	return inv_spi_getbool(0, 1, &isnull);
}

/*
 * check_retention
 *		A retention is a positive whole number of months (or years), or a
 *		positive whole number of days; anything mixing units, with a time
 *		part, or not positive is ambiguous for a calendar and refused.
 */
static void
check_retention(Interval *iv)
{
	bool		months_only = iv->month > 0 && iv->day == 0 && iv->time == 0;
	bool		days_only = iv->month == 0 && iv->day > 0 && iv->time == 0;

	if (!months_only && !days_only)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention interval \"%s\" is ambiguous or not positive",
						DatumGetCString(DirectFunctionCall1(interval_out,
															IntervalPGetDatum(iv)))),
				 errhint("Give a positive number of months or years (such as '12 months'), or of days (such as '90 days'), without mixing units or a time of day.")));
}

/*
 * check_options
 *		The only option is template_table: an ordinary table whose indexes
 *		every new partition also gets (for indexes the parent cannot have,
 *		such as a unique index without the partition column).  Returns the
 *		options with the table's name schema-qualified.  SPI connected.
 */
static Datum
check_options(Datum options)
{
	Oid			types[1] = {JSONBOID};
	bool		isnull;
	char	   *unknown;
	char	   *name;

	inv_spi_exec("SELECT pg_catalog.string_agg(k, ', ' ORDER BY k) "
				 "FROM pg_catalog.jsonb_object_keys($1) k "
				 "WHERE k OPERATOR(pg_catalog.<>) 'template_table'",
				 1, types, &options, NULL, false, SPI_OK_SELECT);
	unknown = inv_spi_gettext(0, 1);
	if (unknown != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized option: %s", unknown),
				 errhint("The only option is template_table.")));

	inv_spi_exec("SELECT $1 OPERATOR(pg_catalog.->>) 'template_table', "
				 "pg_catalog.jsonb_typeof($1 OPERATOR(pg_catalog.->) "
				 "'template_table') OPERATOR(pg_catalog.=) 'string'",
				 1, types, &options, NULL, false, SPI_OK_SELECT);
	name = inv_spi_gettext(0, 1);
	if (name == NULL)
		return options;
	if (!inv_spi_getbool(0, 2, &isnull))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option template_table must be a table name")));

	inv_spi_exec("SELECT pg_catalog.jsonb_build_object("
				 "'template_table', c.oid::pg_catalog.regclass::pg_catalog.text) "
				 "FROM pg_catalog.pg_class c "
				 "WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass("
				 "$1 OPERATOR(pg_catalog.->>) 'template_table') "
				 "AND c.relkind OPERATOR(pg_catalog.=) 'r'",
				 1, types, &options, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("template table \"%s\" does not exist or is not an ordinary table",
						name),
				 errhint("Give the name schema-qualified: it is not looked up in the caller's search_path.")));
	return inv_spi_getdatum_copy(0, 1, &isnull);
}

/*
 * inv_register_partitioned_table
 *		register_partitioned_table(p_parent regclass, p_column name,
 *			p_time_zone text DEFAULT NULL, p_premake_months int DEFAULT 3,
 *			p_retention interval DEFAULT NULL,
 *			p_retention_action text DEFAULT 'detach',
 *			p_archive_parent regclass DEFAULT NULL,
 *			p_options jsonb DEFAULT '{}') RETURNS void
 *
 * Records the policy of a table partitioned by RANGE on p_column.  The
 * zone defaults to the server's TimeZone as a RESET would restore it
 * (postgresql.conf, or ALTER DATABASE / ROLE ... SET), never a SET of the
 * calling session; it is stored in its canonical spelling.  Creates no
 * partition.  Locks: none on the table (catalog reads only); a row lock on
 * the new policy row.
 *
 * Errors: 22004 null parent or column; 42P01 no such table; 42501 not the
 * owner; 22023 not partitioned, wrong column, unknown zone, premake out of
 * 0..120, retention ambiguous or not positive, unrecognized action,
 * archive parent missing, misused or of another shape, options not an
 * object; 0A000 not RANGE on one column, or unsupported column type;
 * 55000 already registered.
 */
Datum
inv_register_partitioned_table(PG_FUNCTION_ARGS)
{
	Oid			parent;
	char	   *column;
	char	   *keycol;
	Oid			keytype;
	const char *zone;
	pg_tz	   *tz;
	int			premake;
	char	   *action;
	Oid			archive = InvalidOid;
	Oid			types[8] = {OIDOID, NAMEOID, OIDOID, TEXTOID, INT4OID,
	INTERVALOID, TEXTOID, OIDOID};
	Datum		values[8];
	bool		nulls[8] = {false};
	Datum		options;
	bool		isnull;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent and partition column must not be null")));
	parent = PG_GETARG_OID(0);
	column = NameStr(*PG_GETARG_NAME(1));

	check_parent(parent, &keycol, &keytype);
	check_owner(parent);
	if (strcmp(column, keycol) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s\" is partitioned on column \"%s\", not \"%s\"",
						get_rel_name(parent), keycol, column)));

	zone = PG_ARGISNULL(2) ? server_time_zone()
		: text_to_cstring(PG_GETARG_TEXT_PP(2));
	tz = find_zone(zone);
	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", zone),
				 errhint("Use a name from pg_timezone_names, such as 'Europe/London'.")));

	premake = PG_ARGISNULL(3) ? 3 : PG_GETARG_INT32(3);
	if (premake < 0 || premake > 120)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("months to premake must be between 0 and 120"),
				 errdetail("The value given was %d.", premake)));

	if (!PG_ARGISNULL(4))
		check_retention(PG_GETARG_INTERVAL_P(4));

	action = PG_ARGISNULL(5) ? "detach" : text_to_cstring(PG_GETARG_TEXT_PP(5));
	if (strcmp(action, "drop") != 0 && strcmp(action, "detach") != 0 &&
		strcmp(action, "archive") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized retention action: \"%s\"", action),
				 errhint("Use drop, detach or archive.")));

	if (!PG_ARGISNULL(6))
		archive = PG_GETARG_OID(6);
	if (strcmp(action, "archive") == 0)
	{
		if (!OidIsValid(archive))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("retention action archive needs an archive parent")));
		if (get_rel_name(archive) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("archive table with OID %u does not exist", archive)));
		if (archive == parent)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a table cannot be its own archive")));
	}
	else if (OidIsValid(archive))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("archive parent given for retention action \"%s\"",
						action),
				 errhint("An archive parent is used only with retention action archive.")));

	inv_spi_connect();

	if (OidIsValid(archive) && !same_column_shape(parent, archive))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("archive table \"%s\" does not have the columns of table \"%s\"",
						get_rel_name(archive), get_rel_name(parent)),
				 errdetail("Both tables must have the same column names and types, in the same order.")));

	options = PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7);
	if (!PG_ARGISNULL(7))
	{
		Oid			jtypes[1] = {JSONBOID};

		inv_spi_exec("SELECT pg_catalog.jsonb_typeof($1) "
					 "OPERATOR(pg_catalog.=) 'object'",
					 1, jtypes, &options, NULL, false, SPI_OK_SELECT);
		if (!inv_spi_getbool(0, 1, &isnull))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("options must be a JSON object")));
		options = check_options(options);
	}

	values[0] = ObjectIdGetDatum(parent);
	values[1] = PG_GETARG_DATUM(1);
	values[2] = ObjectIdGetDatum(keytype);
	values[3] = CStringGetTextDatum(pg_get_timezone_name(tz));
	values[4] = Int32GetDatum(premake);
	values[5] = PG_ARGISNULL(4) ? (Datum) 0 : PG_GETARG_DATUM(4);
	nulls[5] = PG_ARGISNULL(4);
	values[6] = CStringGetTextDatum(action);
	values[7] = ObjectIdGetDatum(archive);
	nulls[7] = !OidIsValid(archive);
	if (inv_spi_exec(
					 "INSERT INTO inventory.partition_policies "
					 "(parent, partition_column, column_type, time_zone, "
					 "premake_months, retention, retention_action, archive_parent) "
					 "VALUES ($1::pg_catalog.regclass, $2, "
					 "$3::pg_catalog.regtype, $4, $5, $6, $7, "
					 "$8::pg_catalog.regclass) "
					 "ON CONFLICT (parent) DO NOTHING",
					 8, types, values, nulls, false, SPI_OK_INSERT) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is already registered for partition management",
						get_rel_name(parent)),
				 errhint("Unregister it first to change its policy.")));
	if (!PG_ARGISNULL(7))
	{
		Oid			otypes[2] = {OIDOID, JSONBOID};
		Datum		ovalues[2];

		ovalues[0] = ObjectIdGetDatum(parent);
		ovalues[1] = options;
		inv_spi_exec("UPDATE inventory.partition_policies SET options = $2 "
					 "WHERE parent OPERATOR(pg_catalog.=) "
					 "$1::pg_catalog.regclass",
					 2, otypes, ovalues, NULL, false, SPI_OK_UPDATE);
	}
	inv_spi_finish();
	PG_RETURN_VOID();
}

/*
 * inv_unregister_partitioned_table
 *		unregister_partitioned_table(p_parent regclass) RETURNS void
 *
 * Forgets the table's policy; its partitions are left as they are.
 * Errors: 22004 null; 42501 not the owner (unless the table is gone);
 * 42704 not registered.
 */
Datum
inv_unregister_partitioned_table(PG_FUNCTION_ARGS)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	Oid			parent;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent must not be null")));
	parent = PG_GETARG_OID(0);
	if (get_rel_name(parent) != NULL)
		check_owner(parent);

	values[0] = ObjectIdGetDatum(parent);
	inv_spi_connect();
	if (inv_spi_exec("DELETE FROM inventory.partition_policies "
					 "WHERE parent::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
					 1, types, values, NULL, false, SPI_OK_DELETE) == 0)
	{
		char	   *name = get_rel_name(parent);

		if (name != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("table \"%s\" is not registered for partition management",
							name)));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table with OID %u is not registered for partition management",
						parent)));
	}
	inv_spi_finish();
	PG_RETURN_VOID();
}

/* ----------------------------------------------------------------
 * Maintenance
 * ----------------------------------------------------------------
 */

/*
 * Add one result row and its maintenance_log entry.
 *
 * XXX: maintenance_log is never pruned; a DBA deletes old runs by hand.
 */
static void
emit(InvRun *run, InvPolicy *pol, const char *parent_name,
	 const char *action, const char *partition, const char *detail)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Oid			ltypes[7] = {INT8OID, OIDOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TIMESTAMPTZOID};
	Datum		lvalues[7];
	bool		lnulls[7] = {false};
	int			i;

	values[0] = CStringGetTextDatum(parent_name);
	values[1] = CStringGetTextDatum(action);
	nulls[2] = partition == NULL;
	values[2] = partition ? CStringGetTextDatum(partition) : (Datum) 0;
	nulls[3] = detail == NULL;
	values[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	tuplestore_putvalues(run->tupstore, run->tupdesc, values, nulls);

	lvalues[0] = Int64GetDatum(run->run_id);
	lvalues[1] = ObjectIdGetDatum(pol->parent);
	lvalues[2] = values[0];
	lvalues[3] = values[1];
	lvalues[4] = values[2];
	lnulls[4] = nulls[2];
	lvalues[5] = values[3];
	lnulls[5] = nulls[3];
	lvalues[6] = TimestampTzGetDatum(run->now);
	inv_spi_exec("INSERT INTO inventory.maintenance_log "
				 "(run_id, parent_oid, parent_name, action, partition_name, "
				 "detail, as_of) VALUES ($1, $2, $3, $4, $5, $6, $7)",
				 7, ltypes, lvalues, lnulls, false, SPI_OK_INSERT);

	if (strcmp(action, "skipped") == 0)
		run->skipped++;
	for (i = 0; i < INV_NUM_ACTIONS; i++)
		if (strcmp(action, inv_actions[i]) == 0)
			run->table_counts[i]++;
}

/* Report a lock that could not be had, and give up on the table */
static void
skip_locked(InvRun *run, InvPolicy *pol, const char *what)
{
	ereport(WARNING,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("maintenance of table %s skipped: locks for %s not obtained",
					pol->qualname, what),
			 errdetail("Gave up after %d attempts of %d ms each (inventory_ext.lock_retries, inventory_ext.lock_timeout).",
					   inv_lock_retries, inv_lock_timeout_ms),
			 errhint("Find the session holding the lock in pg_locks; maintenance tries again at its next run.")));
	emit(run, pol, pol->qualname, "skipped", what,
		 "could not lock within inventory_ext.lock_timeout");
}

/* Outcome of ensure_month as a result row; false when locks failed */
static bool
report_month(InvRun *run, InvPolicy *pol, int mi, InvMonthResult r,
			 const char *partname, int64 moved, const char *why)
{
	switch (r)
	{
		case MONTH_CREATED:
			run->created++;
			run->moved += moved;
			if (moved > 0)
				emit(run, pol, pol->qualname, "created", partname,
					 psprintf("%s; moved " INT64_FORMAT " %s from the default partition",
							  why, moved, moved == 1 ? "row" : "rows"));
			else
				emit(run, pol, pol->qualname, "created", partname, why);
			return true;
		case MONTH_EXISTS:
		case MONTH_COVERED:
			return true;
		case MONTH_OVERLAP:
			emit(run, pol, pol->qualname, "skipped", partname,
				 psprintf("month %04d-%02d overlaps this partition's bounds",
						  MI_YEAR(mi), MI_MONTH(mi)));
			return true;
		case MONTH_LOCKED:
			skip_locked(run, pol, partname);
			return false;
	}
	return false;
}

/*
 * retention_cutoff
 *		Month index of the retention cutoff: partitions whose real upper
 *		bound is at or before the start of this month, in the policy's
 *		zone, are due.  It is the month that now minus the retention falls
 *		in, so at least the retention is always kept.  -1 without
 *		retention.
 */
static int
retention_cutoff(InvPolicy *pol, struct pg_tm *now_tm)
{
	int			y,
				m,
				d;

	if (!pol->has_retention)
		return -1;
	if (pol->retention.month > 0)
		return MONTH_INDEX(now_tm->tm_year, now_tm->tm_mon) -
			pol->retention.month;
	j2date(date2j(now_tm->tm_year, now_tm->tm_mon, now_tm->tm_mday) -
		   pol->retention.day, &y, &m, &d);
	return MONTH_INDEX(y, m);
}

/*
 * rescue_default
 *		Give the rows waiting in the default partition their partitions,
 *		month by month; rows beyond inventory_ext.future_limit_months (or
 *		with a NULL or infinite key) are reported as 'stray' and left.
 *		Returns false when a lock could not be had.
 *
 * XXX: each month found costs one scan of the default partition (the move)
 * plus ATTACH's own check; fine for a default partition that is normally
 * empty, slow for one holding years of rows.
 */
static bool
rescue_default(InvRun *run, InvPolicy *pol, int cur, int cutoff)
{
	char	   *defname = inv_rel_qualname(pol->default_part);
	const char *col = quote_identifier(pol->column);
	const char *local;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	uint64		n;
	uint64		i;
	int		   *months;
	int64	   *counts;
	bool	   *nomonth;

	if (defname == NULL)
		return true;
	if (pol->keytype == TIMESTAMPTZOID)
		local = psprintf("pg_catalog.timezone($1, %s)", col);
	else
		local = psprintf("(%s)::pg_catalog.timestamp", col);

	values[0] = CStringGetTextDatum(pol->zone);
	n = inv_spi_exec(psprintf("SELECT CASE WHEN pg_catalog.isfinite(%s) THEN "
							  "(pg_catalog.date_part('year', %s) * 12 "
							  "+ pg_catalog.date_part('month', %s) - 1)"
							  "::pg_catalog.int4 END, pg_catalog.count(*) "
							  "FROM ONLY %s GROUP BY 1 ORDER BY 1",
							  col, local, local, defname),
					 1, types, values, NULL, false, SPI_OK_SELECT);
	months = palloc(sizeof(int) * (n + 1));
	counts = palloc(sizeof(int64) * (n + 1));
	nomonth = palloc(sizeof(bool) * (n + 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		months[i] = (int) inv_spi_getint64(i, 1, &nomonth[i]);
		counts[i] = inv_spi_getint64(i, 2, &isnull);
	}

	for (i = 0; i < n; i++)
	{
		InvPart    *parts;
		int			nparts;
		char	   *partname = NULL;
		int64		moved;
		InvMonthResult r;

		CHECK_FOR_INTERRUPTS();

		/*
		 * Rows older than retention under a drop policy stay put: making
		 * their partition only for retention to drop it at once would destroy
		 * rows nobody asked to delete.
		 */
		if (nomonth[i] || months[i] > cur + inv_future_limit_months ||
			months[i] < MONTH_INDEX(1, 1) ||
			months[i] > MONTH_INDEX(9999, 12) ||
			(strcmp(pol->action, "drop") == 0 && months[i] < cutoff))
		{
			char	   *detail;
			const char *rows = counts[i] == 1 ? "row" : "rows";

			if (nomonth[i])
				detail = psprintf(INT64_FORMAT " %s with a null or infinite key left in the default partition",
								  counts[i], rows);
			else if (months[i] < cutoff)
				detail = psprintf(INT64_FORMAT " %s of month %04d-%02d, older than the retention of a drop policy, left in the default partition",
								  counts[i], rows, MI_YEAR(months[i]),
								  MI_MONTH(months[i]));
			else
				detail = psprintf(INT64_FORMAT " %s of month %04d-%02d, beyond inventory_ext.future_limit_months (%d), left in the default partition",
								  counts[i], rows, MI_YEAR(months[i]),
								  MI_MONTH(months[i]), inv_future_limit_months);
			ereport(WARNING,
					(errmsg("table %s has rows in its default partition that maintenance will not place",
							pol->qualname),
					 errdetail("%s", detail),
					 errhint("Correct or delete these rows, or create their partition with inventory.create_partition().")));
			run->stray++;
			emit(run, pol, pol->qualname, "stray", defname, detail);
			continue;
		}
		nparts = load_partitions(pol, &parts);
		r = ensure_month(pol, parts, nparts, months[i], &partname, &moved);
		if (!report_month(run, pol, months[i], r, partname, moved, "rescue"))
			return false;
	}
	return true;
}

/*
 * apply_retention
 *		Drop, detach or archive every partition whose real upper bound is
 *		at or before the cutoff: the start, in the policy's zone, of the
 *		month that p_now minus the retention falls in.  Never a partition
 *		holding p_now or a later one.  Returns false when a lock could not
 *		be had.
 *
 * XXX: DROP and DETACH take ACCESS EXCLUSIVE on the parent (each wait
 * bounded); DETACH CONCURRENTLY would not, but cannot run inside the
 * caller's transaction.
 */
static bool
apply_retention(InvRun *run, InvPolicy *pol, int cutoff_mi,
				bool archive_installed)
{
	int64		cutoff;
	int64		now_key = instant_as_key(pol, run->now);
	InvPart    *parts;
	int			nparts;
	int			i;

	if (cutoff_mi < MONTH_INDEX(1, 1))
		return true;
	cutoff = month_start(pol, cutoff_mi);

	nparts = load_partitions(pol, &parts);
	for (i = 0; i < nparts; i++)
	{
		InvPart    *p = &parts[i];
		char	   *name;
		char	   *detail;

		CHECK_FOR_INTERRUPTS();
		if (p->upper == KEY_MAX || p->upper > cutoff || p->upper > now_key)
			continue;
		name = inv_rel_qualname(p->relid);
		if (name == NULL)
			continue;
		detail = psprintf("upper bound %s is not after the retention cutoff %s",
						  key_text(pol, p->upper, false),
						  key_text(pol, cutoff, false));

		if (strcmp(pol->action, "archive") == 0)
		{
			if (!archive_installed)
			{
				ereport(WARNING,
						(errmsg("partition %s is due for archival but archival is not installed",
								name),
						 errhint("Install the archival functions, or change the table's retention action.")));
				emit(run, pol, pol->qualname, "skipped", name,
					 "archival is not installed; partition kept");
				continue;
			}
			if (!inv_spi_exec_ddl_retry(psprintf("SELECT inventory.archive_partition(%u::pg_catalog.oid::pg_catalog.regclass)",
												 p->relid), name))
			{
				skip_locked(run, pol, name);
				return false;
			}
			run->archived++;
			emit(run, pol, pol->qualname, "archived", name, detail);
		}
		else if (strcmp(pol->action, "drop") == 0)
		{
			if (!inv_spi_exec_ddl_retry(psprintf("DROP TABLE %s", name), name))
			{
				skip_locked(run, pol, name);
				return false;
			}
			run->dropped++;
			emit(run, pol, pol->qualname, "dropped", name, detail);
		}
		else
		{
			if (!inv_spi_exec_ddl_retry(psprintf("ALTER TABLE %s DETACH PARTITION %s",
												 pol->qualname, name), name))
			{
				skip_locked(run, pol, name);
				return false;
			}
			run->detached++;
			emit(run, pol, pol->qualname, "detached", name, detail);
		}
	}
	return true;
}

/* All the maintenance of one registered table */
static void
maintain_table(InvRun *run, InvPolicy *pol, bool archive_installed)
{
	struct pg_tm now_tm;
	int			cur;
	int			cutoff;
	int			mi;
	bool		ok = true;
	Oid			types[2] = {OIDOID, TEXTOID};
	Datum		values[2];
	StringInfoData summary;
	int			i;

	memset(run->table_counts, 0, sizeof(run->table_counts));
	if (!policy_bind_table(pol))
	{
		char	   *name = inv_rel_qualname(pol->parent);

		ereport(WARNING,
				(errmsg("registered table with OID %u cannot be maintained",
						pol->parent),
				 errdetail("The table was dropped, is no longer partitioned, or its time zone \"%s\" is unknown.",
						   pol->zone),
				 errhint("Unregister it with inventory.unregister_partitioned_table(%u).",
						 pol->parent)));
		emit(run, pol, name ? name : psprintf("%u", pol->parent), "skipped",
			 NULL, "table no longer matches its policy");
		return;
	}
	if (!pg_class_ownercheck(pol->parent, GetUserId()))
	{
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("maintenance of table %s skipped: must be owner of the table",
						pol->qualname)));
		emit(run, pol, pol->qualname, "skipped", NULL,
			 "permission denied: must be owner of the table");
		return;
	}
	if (!inv_try_advisory_xact_lock((int32) pol->parent))
	{
		ereport(NOTICE,
				(errmsg("maintenance of table %s skipped: another maintenance run holds its lock",
						pol->qualname)));
		emit(run, pol, pol->qualname, "skipped", NULL,
			 "another maintenance run holds the table's lock");
		return;
	}

	local_time(pol, run->now, &now_tm);
	cur = MONTH_INDEX(now_tm.tm_year, now_tm.tm_mon);
	cutoff = retention_cutoff(pol, &now_tm);

	/* rows in the default partition first: they decide what to create */
	if (OidIsValid(pol->default_part))
	{
		if (!lock_default(pol))
		{
			skip_locked(run, pol, inv_rel_qualname(pol->default_part));
			ok = false;
		}
		else
			ok = rescue_default(run, pol, cur, cutoff);
	}

	for (mi = cur; ok && mi <= cur + pol->premake; mi++)
	{
		InvPart    *parts;
		int			nparts = load_partitions(pol, &parts);
		char	   *partname = NULL;
		int64		moved;
		InvMonthResult r;

		CHECK_FOR_INTERRUPTS();
		r = ensure_month(pol, parts, nparts, mi, &partname, &moved);
		ok = report_month(run, pol, mi, r, partname, moved, "premake");
	}

	if (ok && pol->has_retention)
		ok = apply_retention(run, pol, cutoff, archive_installed);

	values[0] = ObjectIdGetDatum(pol->parent);
	/* "created 2, stray 1" */
	initStringInfo(&summary);
	for (i = 0; i < INV_NUM_ACTIONS; i++)
		if (run->table_counts[i] > 0)
			appendStringInfo(&summary, "%s%s %d", summary.len ? ", " : "",
							 inv_actions[i], run->table_counts[i]);
	values[1] = CStringGetTextDatum(summary.len ? summary.data
									: "nothing to do");
	inv_spi_exec("UPDATE inventory.partition_policies "
				 "SET last_maintenance_at = pg_catalog.now(), "
				 "last_maintenance_summary = $2 "
				 "WHERE parent::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
				 2, types, values, NULL, false, SPI_OK_UPDATE);
}

/*
 * inv_run_maintenance
 *		run_maintenance(p_parent regclass DEFAULT NULL,
 *			p_now timestamptz DEFAULT now())
 *		RETURNS TABLE(parent text, action text, partition text, detail text)
 *
 * For each registered table (or only p_parent): places rows of the
 * default partition into their month's partitions, premakes the months up
 * to premake_months after p_now's month, and applies retention.  One row
 * per action ('created', 'dropped', 'detached', 'archived') or per thing
 * left alone ('skipped', 'stray'); months already in place give no row.
 * Every row also goes to inventory.maintenance_log; one LOG line sums up.
 *
 * Locks: per table, advisory (INV_ADVISORY_KEY, parent oid) without
 * waiting (held: a 'skipped' row and a NOTICE); then the locks of
 * create_partition, and ACCESS EXCLUSIVE on parent and partition for
 * retention, each wait bounded by inventory_ext.lock_timeout and retried
 * inventory_ext.lock_retries times; after that, a 'skipped' row and a
 * WARNING, and the next table.
 *
 * Errors: 22023 p_now not finite; 42704 p_parent not registered.
 */
Datum
inv_run_maintenance(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	InvRun		run;
	List	   *pols;
	ListCell   *lc;
	Oid			parent = PG_ARGISNULL(0) ? InvalidOid : PG_GETARG_OID(0);
	instr_time	start;
	instr_time	elapsed;
	bool		archive_installed;
	bool		isnull;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("reference time must not be null")));
	memset(&run, 0, sizeof(run));
	run.now = PG_GETARG_TIMESTAMPTZ(1);
	if (TIMESTAMP_NOT_FINITE(run.now))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reference time must be finite")));
	INSTR_TIME_SET_CURRENT(start);
	InitMaterializedSRF(fcinfo, 0);
	run.tupstore = rsinfo->setResult;
	run.tupdesc = rsinfo->setDesc;

	inv_spi_connect();
	pols = load_policies(parent);
	if (OidIsValid(parent) && pols == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not registered for partition management",
						get_rel_name(parent))));

	inv_spi_exec("SELECT pg_catalog.nextval("
				 "'inventory.maintenance_log_run_id_seq'), "
				 "pg_catalog.to_regprocedure('inventory.archive_partition("
				 "pg_catalog.regclass, pg_catalog.bool)') IS NOT NULL",
				 0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	run.run_id = inv_spi_getint64(0, 1, &isnull);
	archive_installed = inv_spi_getbool(0, 2, &isnull);

	foreach(lc, pols)
	{
		CHECK_FOR_INTERRUPTS();
		maintain_table(&run, lfirst(lc), archive_installed);
	}
	inv_spi_finish();

	INSTR_TIME_SET_CURRENT(elapsed);
	INSTR_TIME_SUBTRACT(elapsed, start);
	ereport(LOG,
			(errmsg("partition maintenance: %d tables, %d partitions created, " INT64_FORMAT " rows moved, %d dropped, %d detached, %d archived, %d skipped, %d stray reports, in %.0f ms",
					list_length(pols), run.created, run.moved, run.dropped,
					run.detached, run.archived, run.skipped, run.stray,
					INSTR_TIME_GET_MILLISEC(elapsed))));
	return (Datum) 0;
}

/*
 * inv_run_maintenance_proc
 *		PROCEDURE run_maintenance_proc(p_parent regclass DEFAULT NULL,
 *			p_now timestamptz DEFAULT NULL)
 *
 * run_maintenance for one table at a time, committing after each, so the
 * locks taken for one table (ACCESS EXCLUSIVE on its default partition,
 * among others) are released before the next table is touched.  This is
 * what the pg_cron job calls.  p_now defaults to now() of each table's
 * own transaction.  A table whose maintenance fails with an error is
 * reported as a WARNING and the others are still maintained.  Called
 * inside a transaction block (atomic CALL), it cannot commit and runs
 * everything in the caller's transaction.
 *
 * Written in C, not PL/pgSQL: a procedure that commits cannot carry a
 * SET search_path clause, and here every name is qualified in the C
 * strings instead.
 */
Datum
inv_run_maintenance_proc(PG_FUNCTION_ARGS)
{
	CallContext *callctx = (CallContext *) fcinfo->context;
	bool		atomic;
	MemoryContext keepcxt = fcinfo->flinfo->fn_mcxt;
	Oid		   *parents;
	uint64		n;
	uint64		i;
	Oid			types[2] = {OIDOID, TIMESTAMPTZOID};
	Datum		values[2];
	bool		nulls[2];

	atomic = callctx == NULL || !IsA(callctx, CallContext) || callctx->atomic;
	inv_spi_connect_nonatomic(atomic);

	values[0] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	nulls[0] = PG_ARGISNULL(0);
	n = inv_spi_exec("SELECT p.parent::pg_catalog.oid "
					 "FROM inventory.partition_policies p "
					 "WHERE $1 IS NULL "
					 "OR p.parent::pg_catalog.oid OPERATOR(pg_catalog.=) $1 "
					 "ORDER BY p.parent::pg_catalog.text COLLATE \"C\"",
					 1, types, values, nulls, false, SPI_OK_SELECT);
	if (!nulls[0] && n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not registered for partition management",
						get_rel_name(DatumGetObjectId(values[0])))));

	/* the list must outlive the commits below */
	parents = MemoryContextAlloc(keepcxt, sizeof(Oid) * (n + 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;

		parents[i] = DatumGetObjectId(inv_spi_getdatum(i, 1, &isnull));
	}

	for (i = 0; i < n; i++)
	{
		MemoryContext oldcxt = CurrentMemoryContext;
		ResourceOwner oldowner = CurrentResourceOwner;

		CHECK_FOR_INTERRUPTS();
		values[0] = ObjectIdGetDatum(parents[i]);
		values[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
		nulls[0] = false;
		nulls[1] = PG_ARGISNULL(1);

		/* one table's failure must not stop the others */
		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(oldcxt);
		PG_TRY();
		{
			inv_spi_exec("SELECT pg_catalog.count(*) "
						 "FROM inventory.run_maintenance("
						 "$1::pg_catalog.regclass, "
						 "COALESCE($2, pg_catalog.now()))",
						 2, types, values, nulls, false, SPI_OK_SELECT);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
		}
		PG_CATCH();
		{
			ErrorData  *edata;

			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(oldcxt);
			CurrentResourceOwner = oldowner;
			/* a cancel or shutdown ends the whole run */
			if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
				edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN)
				ReThrowError(edata);
			ereport(WARNING,
					(errcode(edata->sqlerrcode),
					 errmsg("maintenance of table %s failed: %s",
							inv_rel_qualname(parents[i]) ? inv_rel_qualname(parents[i]) :
							psprintf("with OID %u", parents[i]),
							edata->message),
					 edata->detail ? errdetail("%s", edata->detail) : 0));
			FreeErrorData(edata);
		}
		PG_END_TRY();

		if (!atomic)
			inv_spi_commit();
	}
	inv_spi_finish();
	PG_RETURN_VOID();
}

/*
 * inv_partition_bounds
 *		partition_bounds(p_parent regclass, p_now timestamptz DEFAULT now())
 *		RETURNS TABLE(partition text, ordinal int, is_default boolean,
 *			lower_bound text, upper_bound text, month date, position text)
 *
 * The partitions of a registered table with their real bounds, shown in
 * the policy's zone; month is the calendar month a partition spans
 * exactly (NULL for other bounds); position is 'past', 'current' or
 * 'future' relative to p_now, or 'default'.  Takes no locks.
 * Errors: 22004 null; 42704 not registered.
 */
Datum
inv_partition_bounds(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	InvPolicy  *pol;
	InvPart    *parts;
	int			nparts;
	int			i;
	int64		now_key;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("parent and reference time must not be null")));
	InitMaterializedSRF(fcinfo, 0);

	inv_spi_connect();
	pol = get_policy(PG_GETARG_OID(0));
	if (TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(1)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("reference time must be finite")));
	now_key = instant_as_key(pol, PG_GETARG_TIMESTAMPTZ(1));
	nparts = load_partitions(pol, &parts);
	for (i = 0; i <= nparts; i++)
	{
		Datum		values[7];
		bool		nulls[7] = {false};
		char	   *name;
		int			mi;

		if (i == nparts)
		{
			/* the default partition last */
			if (!OidIsValid(pol->default_part) ||
				(name = inv_rel_qualname(pol->default_part)) == NULL)
				break;
			values[0] = CStringGetTextDatum(name);
			values[1] = Int32GetDatum(i + 1);
			values[2] = BoolGetDatum(true);
			nulls[3] = nulls[4] = nulls[5] = true;
			values[6] = CStringGetTextDatum("default");
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
								 values, nulls);
			break;
		}
		name = inv_rel_qualname(parts[i].relid);
		if (name == NULL)
			continue;
		values[0] = CStringGetTextDatum(name);
		values[1] = Int32GetDatum(i + 1);
		values[2] = BoolGetDatum(false);
		values[3] = CStringGetTextDatum(key_text(pol, parts[i].lower, false));
		values[4] = CStringGetTextDatum(key_text(pol, parts[i].upper, false));
		if (part_month(pol, &parts[i], &mi))
			values[5] = DateADTGetDatum(date2j(MI_YEAR(mi), MI_MONTH(mi), 1) -
										POSTGRES_EPOCH_JDATE);
		else
			nulls[5] = true;
		values[6] = CStringGetTextDatum(parts[i].upper != KEY_MAX &&
										parts[i].upper <= now_key ? "past" :
										parts[i].lower != KEY_MIN &&
										parts[i].lower > now_key ? "future" :
										"current");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	inv_spi_finish();
	return (Datum) 0;
}
