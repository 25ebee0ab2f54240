/*-------------------------------------------------------------------------
 *
 * loader.c
 *	  Parsing helpers of the Online Retail loader (sql/install/15_loader.sql).
 *
 * The loader is set-based SQL; only the per-row parsing that SQL does
 * slowly, or only with errors that would abort a whole load, lives here.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/loader.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "inventory_ext.h"

PG_FUNCTION_INFO_V1(inv_parse_retail_timestamp);

/* Read 1..maxdigits decimal digits at *p into *out; advance *p. */
static bool
read_number(const char **p, int mindigits, int maxdigits, int *out)
{
	int			n = 0;
	int			v = 0;

	while (**p >= '0' && **p <= '9' && n < maxdigits)
	{
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (n < mindigits || (**p >= '0' && **p <= '9'))
		return false;
	*out = v;
	return true;
}

static bool
expect_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

/*
 * parse_retail_timestamp(text) RETURNS timestamp
 *
 * Accepts 'YYYY-MM-DD HH:MM[:SS]' and the data set's original
 * 'M/D/YYYY H:MM', with surrounding spaces.  Returns NULL, never an error,
 * for anything else or for a date or time that does not exist, so that a
 * bad row is reported by the loader instead of aborting the load.
 */
Datum
inv_parse_retail_timestamp(PG_FUNCTION_ARGS)
{
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *p = s;
	struct pg_tm tm;
	int			sec = 0;
	Timestamp	result;
	bool		ok;

	memset(&tm, 0, sizeof(tm));
	while (*p == ' ')
		p++;

	if (strchr(p, '/') != NULL)
		ok = read_number(&p, 1, 2, &tm.tm_mon) && expect_char(&p, '/') &&
			read_number(&p, 1, 2, &tm.tm_mday) && expect_char(&p, '/') &&
			read_number(&p, 4, 4, &tm.tm_year) && expect_char(&p, ' ') &&
			read_number(&p, 1, 2, &tm.tm_hour) && expect_char(&p, ':') &&
			read_number(&p, 2, 2, &tm.tm_min);
	else
	{
		ok = read_number(&p, 4, 4, &tm.tm_year) && expect_char(&p, '-') &&
			read_number(&p, 2, 2, &tm.tm_mon) && expect_char(&p, '-') &&
			read_number(&p, 2, 2, &tm.tm_mday) &&
			(expect_char(&p, ' ') || expect_char(&p, 'T')) &&
			read_number(&p, 1, 2, &tm.tm_hour) && expect_char(&p, ':') &&
			read_number(&p, 2, 2, &tm.tm_min);
		if (ok && *p == ':')
		{
			p++;
			ok = read_number(&p, 2, 2, &sec);
		}
	}
	while (ok && *p == ' ')
		p++;
	pfree(s);

	if (!ok || *p != '\0' ||
		tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
		tm.tm_mday > day_tab[isleap(tm.tm_year)][tm.tm_mon - 1] ||
		tm.tm_hour > 23 || tm.tm_min > 59 || sec > 59)
		PG_RETURN_NULL();
	tm.tm_sec = sec;

	if (tm2timestamp(&tm, 0, NULL, &result) != 0)
		PG_RETURN_NULL();
	PG_RETURN_TIMESTAMP(result);
}
