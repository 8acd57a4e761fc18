/*
 * pg_reactive: the refresher's background worker.
 */
#include "postgres.h"
#include "fmgr.h"

PG_MODULE_MAGIC;

void _PG_init(void);

void
_PG_init(void)
{
}
