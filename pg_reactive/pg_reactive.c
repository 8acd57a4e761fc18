/*
 * pg_reactive: the capture trigger, the refresher's background worker and the
 * commit wake-up.
 *
 * When the library is in shared_preload_libraries and pg_reactive.database
 * names a database, a background worker connected to it runs pgr.refresh()
 * in a REPEATABLE READ transaction whenever a writer commits a change to a
 * watched table (and every pg_reactive.naptime ms, 1 s by default, as a
 * safety net).
 *
 * Writers wake it without NOTIFY and without locks: the capture trigger
 * (pgr.capture, also here) registers a transaction callback; at COMMIT (after
 * the transaction is visible to new snapshots) the callback sets the worker's
 * latch. An aborted transaction wakes nobody.
 *
 * Without preloading, the wake-up does nothing and whoever drives ticks (the
 * pgStack server, or a cron job) calls pgr.refresh() itself.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "commands/trigger.h"
#include "executor/functions.h"
#include "funcapi.h"
#include "parser/analyze.h"
#include "parser/parse_node.h"
#include "rewrite/rewriteManip.h"
#include "utils/resowner.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/acl.h"
#include "catalog/pg_type.h"
#include "utils/syscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/ruleutils.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

PG_MODULE_MAGIC;

/* PostgreSQL 16 folded the per-object ACL checks into object_aclcheck(). */
#if PG_VERSION_NUM >= 160000
#define proc_aclcheck(fn, role, mode) object_aclcheck(ProcedureRelationId, (fn), (role), (mode))
#else
#define proc_aclcheck(fn, role, mode) pg_proc_aclcheck((fn), (role), (mode))
#endif

void		_PG_init(void);
PGDLLEXPORT void pgr_worker_main(Datum arg);

PG_FUNCTION_INFO_V1(pgr_wake);
PG_FUNCTION_INFO_V1(pgr_capture);
PG_FUNCTION_INFO_V1(pgr_key_source);
PG_FUNCTION_INFO_V1(pgr_call_eval);
PG_FUNCTION_INFO_V1(pgr_route_qual);
PG_FUNCTION_INFO_V1(pgr_policy_refs);

/* More distinct keys than this in one statement: record them as unknown. */
#define MAX_KEYS 1000

typedef struct PgrShared
{
	/* The worker's PGPROC number, or -1 when no worker runs. */
	pg_atomic_uint32 worker_procno;
	/* Commits that asked for a wake-up (for observation). */
	pg_atomic_uint64 wakeups;
}			PgrShared;

#define NO_WORKER ((uint32) 0xFFFFFFFF)

static PgrShared *pgr_shared = NULL;
static char *pgr_database = NULL;
static int	pgr_naptime = 1000;

/* Wait before retrying a tick that failed, in milliseconds. */
#define PGR_RETRY_MS 10
static bool wake_registered = false;
static bool wake_pending = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
pgr_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(PgrShared)));
}

static void
pgr_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	pgr_shared = ShmemInitStruct("pg_reactive", sizeof(PgrShared), &found);
	if (!found)
	{
		pg_atomic_init_u32(&pgr_shared->worker_procno, NO_WORKER);
		pg_atomic_init_u64(&pgr_shared->wakeups, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

static void
pgr_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (wake_pending && pgr_shared != NULL)
			{
				uint32		procno = pg_atomic_read_u32(&pgr_shared->worker_procno);

				pg_atomic_fetch_add_u64(&pgr_shared->wakeups, 1);
				if (procno != NO_WORKER)
					SetLatch(&ProcGlobal->allProcs[procno].procLatch);
			}
			wake_pending = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			wake_pending = false;
			break;
		default:
			break;
	}
}

/*
 * pgr._wake(): wake the refresher when the current transaction commits.
 */
Datum
pgr_wake(PG_FUNCTION_ARGS)
{
	if (pgr_shared == NULL)
		PG_RETURN_BOOL(false);
	if (!wake_registered)
	{
		RegisterXactCallback(pgr_xact_callback, NULL);
		wake_registered = true;
	}
	wake_pending = true;
	PG_RETURN_BOOL(true);
}

static void
wake_at_commit(void)
{
	if (pgr_shared == NULL)
		return;
	if (!wake_registered)
	{
		RegisterXactCallback(pgr_xact_callback, NULL);
		wake_registered = true;
	}
	wake_pending = true;
}

/* Collects the distinct text values of column attnum in a transition table. */
static void
collect_values(Tuplestorestate *ts, TupleDesc desc, AttrNumber attnum, List **values)
{
	TupleTableSlot *slot;
	Oid			typoutput;
	bool		varlena;

	if (ts == NULL)
		return;
	getTypeOutputInfo(TupleDescAttr(desc, attnum - 1)->atttypid, &typoutput, &varlena);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	tuplestore_rescan(ts);
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, attnum, &isnull);
		char	   *v;
		ListCell   *lc;
		bool		seen = false;

		if (isnull)
			continue;
		v = OidOutputFunctionCall(typoutput, d);
		foreach(lc, *values)
		{
			if (strcmp((char *) lfirst(lc), v) == 0)
			{
				seen = true;
				break;
			}
		}
		if (!seen)
			*values = lappend(*values, v);
	}
	ExecDropSingleTupleTableSlot(slot);
}

/*
 * Collects the distinct values of key column attnum in a transition table as
 * "attnum:value". Returns false when a key is NULL or there are more than
 * MAX_KEYS: the changed keys are then unknown.
 */
static bool
collect_keys(Tuplestorestate *ts, TupleDesc desc, AttrNumber attnum, List **values)
{
	TupleTableSlot *slot;
	Oid			typoutput;
	bool		varlena;
	bool		ok = true;

	if (ts == NULL)
		return true;
	getTypeOutputInfo(TupleDescAttr(desc, attnum - 1)->atttypid, &typoutput, &varlena);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	tuplestore_rescan(ts);
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, attnum, &isnull);
		char	   *v;
		ListCell   *lc;
		bool		seen = false;

		if (isnull)
		{
			ok = false;
			break;
		}
		v = psprintf("%d:%s", attnum, OidOutputFunctionCall(typoutput, d));
		foreach(lc, *values)
		{
			if (strcmp((char *) lfirst(lc), v) == 0)
			{
				seen = true;
				break;
			}
		}
		if (!seen)
		{
			if (list_length(*values) >= MAX_KEYS)
			{
				ok = false;
				break;
			}
			*values = lappend(*values, v);
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	return ok;
}

static Datum
text_array(List *vals)
{
	Datum	   *elems = palloc(sizeof(Datum) * list_length(vals));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, vals)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * pgr.capture([nparts, partition column, ..., key column, ...]): the capture
 * trigger (AFTER ... FOR EACH STATEMENT). It appends one row to pgr.dirty:
 * the table and, when columns are named and the trigger has transition
 * tables, the distinct old and new values of the first nparts columns (the
 * partitions the statement touched) and of the remaining ones (the keys of
 * the rows it changed, as "attnum:value"). A statement that changed no row
 * records nothing. The row is inserted directly (pgr.dirty has no index),
 * without SQL or a privilege check, so any writer records its changes and
 * nothing else; it becomes visible with the writer's commit.
 */
Datum
pgr_capture(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	Oid			relid;
	Oid			dirty;
	Datum		values[3];
	bool		nulls[3] = {false, true, true};
	Relation	dirtyrel;
	HeapTuple	tuple;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR, (errmsg("pgr.capture() must be called as a trigger")));
	rel = td->tg_relation;
	relid = RelationGetRelid(rel);

	if (td->tg_trigger->tgnargs > 0 && !TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		List	   *vals = NIL;
		List	   *keys = NIL;
		bool		keys_ok = true;
		int			nparts;
		int			first;
		int			i;

		if (td->tg_newtable == NULL && td->tg_oldtable == NULL)
			ereport(ERROR, (errmsg("pgr.capture(columns) needs transition tables")));
		if ((td->tg_newtable == NULL || tuplestore_tuple_count(td->tg_newtable) == 0) &&
			(td->tg_oldtable == NULL || tuplestore_tuple_count(td->tg_oldtable) == 0))
			return PointerGetDatum(NULL);	/* no row changed */
		/*
		 * Triggers created before keys were captured name partition columns
		 * only, without the leading count.
		 */
		{
			char	   *end;
			long		n = strtol(td->tg_trigger->tgargs[0], &end, 10);

			if (*td->tg_trigger->tgargs[0] != '\0' && *end == '\0' && n >= 0 && n < td->tg_trigger->tgnargs)
			{
				nparts = (int) n;
				first = 1;
			}
			else
			{
				nparts = td->tg_trigger->tgnargs;
				first = 0;
			}
		}
		for (i = first; i < td->tg_trigger->tgnargs; i++)
		{
			AttrNumber	attnum = get_attnum(relid, td->tg_trigger->tgargs[i]);

			if (attnum == InvalidAttrNumber)
				ereport(ERROR, (errmsg("pgr.capture: column \"%s\" does not exist", td->tg_trigger->tgargs[i])));
			if (i < first + nparts)
			{
				collect_values(td->tg_newtable, RelationGetDescr(rel), attnum, &vals);
				collect_values(td->tg_oldtable, RelationGetDescr(rel), attnum, &vals);
			}
			else if (keys_ok)
				keys_ok = collect_keys(td->tg_newtable, RelationGetDescr(rel), attnum, &keys) &&
					collect_keys(td->tg_oldtable, RelationGetDescr(rel), attnum, &keys);
		}
		/* No partition value (only NULL partitions, or none captured): unknown. */
		if (vals != NIL)
		{
			values[1] = text_array(vals);
			nulls[1] = false;
		}
		if (first + nparts < td->tg_trigger->tgnargs && keys_ok && keys != NIL)
		{
			values[2] = text_array(keys);
			nulls[2] = false;
		}
	}

	dirty = get_relname_relid("dirty", get_namespace_oid("pgr", false));
	if (!OidIsValid(dirty))
		ereport(ERROR, (errmsg("pgr.dirty does not exist")));
	values[0] = ObjectIdGetDatum(relid);
	dirtyrel = table_open(dirty, RowExclusiveLock);
	tuple = heap_form_tuple(RelationGetDescr(dirtyrel), values, nulls);
	simple_heap_insert(dirtyrel, tuple);
	heap_freetuple(tuple);
	table_close(dirtyrel, RowExclusiveLock);

	wake_at_commit();
	return PointerGetDatum(NULL);
}

/* Functions a keyed query may call: immutable ones, and auth.* and pgr.*. */
static bool
keyed_function_ok(Oid func_id, void *context)
{
	HeapTuple	tp;
	Form_pg_proc proc;
	bool		ok;
	char	   *nsp;

	if (func_volatile(func_id) == PROVOLATILE_IMMUTABLE)
		return false;
	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(func_id));
	if (!HeapTupleIsValid(tp))
		return true;
	proc = (Form_pg_proc) GETSTRUCT(tp);
	nsp = get_namespace_name(proc->pronamespace);
	ok = proc->provolatile != PROVOLATILE_VOLATILE && nsp != NULL &&
		(strcmp(nsp, "auth") == 0 || strcmp(nsp, "pgr") == 0);
	ReleaseSysCache(tp);
	return !ok;
}

static bool
keyed_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, keyed_function_ok, context))
		return true;
	if (IsA(node, SubLink) || IsA(node, Query))
		return true;
	return expression_tree_walker(node, keyed_walker, context);
}

/*
 * pgr._key_source(view, rel, column): when the view is a plain filter and
 * projection of the one table rel (no joins, subqueries, aggregates,
 * DISTINCT, window functions, LIMIT, set operations or CTEs; no functions
 * but immutable ones and those of auth and pgr) and its output column
 * `column` is a column of rel, returns that column's number; otherwise
 * NULL. Each row of such a view comes from one row of rel with the same
 * key, so a change to other rows of rel cannot change it.
 */
Datum
pgr_key_source(PG_FUNCTION_ARGS)
{
	Oid			view = PG_GETARG_OID(0);
	Oid			relid = PG_GETARG_OID(1);
	char	   *col = text_to_cstring(PG_GETARG_TEXT_PP(2));
	Relation	vrel;
	Query	   *q;
	RangeTblRef *rtr;
	RangeTblEntry *rte;
	ListCell   *lc;
	AttrNumber	att = InvalidAttrNumber;

	vrel = table_open(view, AccessShareLock);
	if (vrel->rd_rel->relkind != RELKIND_VIEW)
	{
		table_close(vrel, AccessShareLock);
		PG_RETURN_NULL();
	}
	q = copyObject(get_view_query(vrel));
	table_close(vrel, AccessShareLock);

	if (q->commandType != CMD_SELECT || q->hasAggs || q->hasWindowFuncs || q->hasTargetSRFs ||
		q->hasSubLinks || q->hasDistinctOn || q->hasRecursive || q->hasModifyingCTE ||
		q->hasForUpdate || q->hasRowSecurity || q->cteList != NIL || q->groupClause != NIL ||
		q->groupingSets != NIL || q->havingQual != NULL || q->distinctClause != NIL ||
		q->windowClause != NIL || q->limitCount != NULL || q->limitOffset != NULL ||
		q->setOperations != NULL || q->rowMarks != NIL || q->jointree == NULL ||
		list_length(q->jointree->fromlist) != 1 || !IsA(linitial(q->jointree->fromlist), RangeTblRef))
		PG_RETURN_NULL();
	rtr = linitial_node(RangeTblRef, q->jointree->fromlist);
	rte = rt_fetch(rtr->rtindex, q->rtable);
	if (rte->rtekind != RTE_RELATION || rte->relid != relid ||
		get_rel_relkind(relid) != RELKIND_RELATION || has_subclass(relid))
		PG_RETURN_NULL();
	if (keyed_walker((Node *) q->jointree->quals, NULL) ||
		keyed_walker((Node *) q->targetList, NULL))
		PG_RETURN_NULL();
	foreach(lc, q->targetList)
	{
		TargetEntry *te = lfirst_node(TargetEntry, lc);

		if (te->resjunk || te->resname == NULL || strcmp(te->resname, col) != 0)
			continue;
		if (IsA(te->expr, Var) && ((Var *) te->expr)->varno == rtr->rtindex &&
			((Var *) te->expr)->varlevelsup == 0 && ((Var *) te->expr)->varattno > 0)
			att = ((Var *) te->expr)->varattno;
		break;
	}
	if (att == InvalidAttrNumber)
		PG_RETURN_NULL();
	PG_RETURN_INT16(att);
}

/*
 * Policy routing. A qual is routable when its value for a row depends on
 * nothing but the row, the tables it reads and auth.uid(): every function it
 * calls is auth.uid() or an immutable function of pg_catalog, and nothing in
 * it reads session state (CURRENT_USER and the like, parameters, sequences,
 * domains, views, foreign tables, sampling, row locks).
 */
typedef struct RouteContext
{
	Oid			uid;			/* auth.uid() */
}			RouteContext;

static bool
route_function_bad(Oid func_id, void *context)
{
	return func_volatile(func_id) != PROVOLATILE_IMMUTABLE ||
		get_func_namespace(func_id) != PG_CATALOG_NAMESPACE;
}

static bool
route_walker(Node *node, RouteContext * ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == ctx->uid)
		return ((FuncExpr *) node)->args != NIL;
	if (check_functions_in_node(node, route_function_bad, ctx))
		return true;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind != PARAM_SUBLINK;
	if (IsA(node, SQLValueFunction) || IsA(node, NextValueExpr) || IsA(node, CurrentOfExpr) ||
		IsA(node, CoerceToDomain) || IsA(node, CoerceToDomainValue) || IsA(node, SetToDefault) ||
		IsA(node, TableSampleClause))
		return true;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		if (q->commandType != CMD_SELECT || q->hasModifyingCTE || q->hasForUpdate ||
			q->rowMarks != NIL || q->utilityStmt != NULL)
			return true;
		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			if (rte->rtekind == RTE_RELATION)
			{
				char		kind = get_rel_relkind(rte->relid);

				if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE &&
					kind != RELKIND_MATVIEW)
					return true;
				if (rte->tablesample != NULL)
					return true;
			}
			else if (rte->rtekind == RTE_NAMEDTUPLESTORE)
				return true;
		}
		return query_tree_walker(q, route_walker, ctx, 0);
	}
	return expression_tree_walker(node, route_walker, ctx);
}

/*
 * The router reads the tables of a policy's sub-queries with row-level
 * security off, so it may see rows a subscriber cannot. That only ever adds
 * users while a sub-query's rows count in the policy's favour: EXISTS or IN
 * under AND and OR, over joins, filters and projections whose own
 * sub-queries are in the same position. Under NOT, in a scalar sub-query
 * (count(*) = 0, max(...) < x), behind an aggregate, LIMIT, an outer join or
 * any other expression (CASE, COALESCE, IS NOT TRUE), a row the subscriber
 * cannot see may turn the policy false for the router while it is true for
 * the subscriber, and the subscriber would be skipped. Such policies are
 * not routed when those sub-queries read a table with row-level security
 * enabled; over tables without it both read the same rows and the router is
 * exact.
 */
typedef enum Polarity
{
	POLARITY_POSITIVE,			/* more rows can only make the policy true */
	POLARITY_NEGATIVE,			/* more rows can only make it false (NOT) */
	POLARITY_OTHER				/* anything else */
}			Polarity;

static bool
rel_has_rls(Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		rls;

	if (!HeapTupleIsValid(tp))
		return true;
	rls = ((Form_pg_class) GETSTRUCT(tp))->relrowsecurity;
	ReleaseSysCache(tp);
	return rls;
}

/* Whether node (an expression or a Query) reads a table with row-level security. */
static bool
reads_rls_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		ListCell   *lc;

		foreach(lc, ((Query *) node)->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			if (rte->rtekind == RTE_RELATION && rel_has_rls(rte->relid))
				return true;
		}
		return query_tree_walker((Query *) node, reads_rls_walker, context, 0);
	}
	return expression_tree_walker(node, reads_rls_walker, context);
}

static bool polarity_bad(Node *node, Polarity polarity);

static bool
polarity_other_walker(Node *node, void *context)
{
	return polarity_bad(node, POLARITY_OTHER);
}

/* Whether the rows of q can only grow with the rows of the tables it reads. */
static bool
query_not_monotone(Query *q)
{
	ListCell   *lc;

	if (q->hasAggs || q->hasWindowFuncs || q->hasTargetSRFs || q->groupClause != NIL ||
		q->groupingSets != NIL || q->havingQual != NULL || q->limitCount != NULL ||
		q->limitOffset != NULL || q->setOperations != NULL || q->cteList != NIL ||
		q->jointree == NULL)
		return true;
	foreach(lc, q->targetList)
	{
		if (polarity_bad((Node *) lfirst_node(TargetEntry, lc)->expr, POLARITY_OTHER))
			return true;
	}
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

		switch (rte->rtekind)
		{
			case RTE_RELATION:
				break;
			case RTE_SUBQUERY:
				if (reads_rls_walker((Node *) rte->subquery, NULL) && query_not_monotone(rte->subquery))
					return true;
				break;
			case RTE_JOIN:
				if (rte->jointype != JOIN_INNER)
					return true;
				break;
			case RTE_FUNCTION:
				if (range_table_entry_walker(rte, polarity_other_walker, NULL, 0))
					return true;
				break;
			case RTE_VALUES:
				if (polarity_bad((Node *) rte->values_lists, POLARITY_OTHER))
					return true;
				break;
			default:
				return true;
		}
	}
	/* Join conditions and WHERE: a row more can only let more rows through. */
	return polarity_bad((Node *) q->jointree, POLARITY_POSITIVE);
}

static bool
polarity_bad(Node *node, Polarity polarity)
{
	if (node == NULL)
		return false;
	if (IsA(node, BoolExpr))
	{
		BoolExpr   *b = (BoolExpr *) node;
		Polarity	p = polarity;
		ListCell   *lc;

		if (b->boolop == NOT_EXPR && polarity != POLARITY_OTHER)
			p = polarity == POLARITY_POSITIVE ? POLARITY_NEGATIVE : POLARITY_POSITIVE;
		foreach(lc, b->args)
		{
			if (polarity_bad(lfirst(lc), p))
				return true;
		}
		return false;
	}
	if (IsA(node, FromExpr))
	{
		FromExpr   *f = (FromExpr *) node;

		return polarity_bad((Node *) f->fromlist, polarity) || polarity_bad(f->quals, polarity);
	}
	if (IsA(node, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) node;

		return polarity_bad(j->larg, polarity) || polarity_bad(j->rarg, polarity) ||
			polarity_bad(j->quals, polarity);
	}
	if (IsA(node, List))
	{
		ListCell   *lc;

		foreach(lc, (List *) node)
		{
			if (polarity_bad(lfirst(lc), polarity))
				return true;
		}
		return false;
	}
	if (IsA(node, RangeTblRef))
		return false;
	if (IsA(node, SubLink))
	{
		SubLink    *sl = (SubLink *) node;

		if (polarity_bad(sl->testexpr, POLARITY_OTHER))
			return true;
		if (!reads_rls_walker(sl->subselect, NULL))
			return false;
		if (polarity != POLARITY_POSITIVE ||
			(sl->subLinkType != EXISTS_SUBLINK && sl->subLinkType != ANY_SUBLINK))
			return true;
		return query_not_monotone(castNode(Query, sl->subselect));
	}
	return expression_tree_walker(node, polarity_other_walker, NULL);
}

/* Whether node is (SELECT auth.uid()): a scalar sub-select of nothing else. */
static bool
is_uid_subselect(Node *node, RouteContext * ctx)
{
	SubLink    *sl;
	Query	   *q;
	TargetEntry *te;

	if (!IsA(node, SubLink))
		return false;
	sl = (SubLink *) node;
	if (sl->subLinkType != EXPR_SUBLINK || sl->testexpr != NULL || !IsA(sl->subselect, Query))
		return false;
	q = (Query *) sl->subselect;
	if (q->commandType != CMD_SELECT || q->rtable != NIL || q->cteList != NIL ||
		q->jointree == NULL || q->jointree->fromlist != NIL || q->jointree->quals != NULL ||
		q->hasAggs || q->hasWindowFuncs || q->hasTargetSRFs || q->hasSubLinks ||
		q->groupClause != NIL || q->groupingSets != NIL || q->havingQual != NULL ||
		q->distinctClause != NIL || q->sortClause != NIL || q->limitCount != NULL ||
		q->limitOffset != NULL || q->setOperations != NULL || list_length(q->targetList) != 1)
		return false;
	te = linitial_node(TargetEntry, q->targetList);
	return !te->resjunk && IsA(te->expr, FuncExpr) && ((FuncExpr *) te->expr)->funcid == ctx->uid;
}

/*
 * Replaces every auth.uid(), and every (SELECT auth.uid()), by the uuid
 * parameter $1 (a sub-select there would cost a sub-plan per cohort).
 */
static Node *
route_mutator(Node *node, RouteContext * ctx)
{
	if (node == NULL)
		return NULL;
	if ((IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == ctx->uid) || is_uid_subselect(node, ctx))
	{
		Param	   *p = makeNode(Param);

		p->paramkind = PARAM_EXTERN;
		p->paramid = 1;
		p->paramtype = UUIDOID;
		p->paramtypmod = -1;
		p->paramcollid = InvalidOid;
		p->location = -1;
		return (Node *) p;
	}
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, route_mutator, ctx, 0);
	return expression_tree_mutator(node, route_mutator, ctx);
}

/*
 * Helper inlining. Policies often wrap their check in a function of their
 * own (using (is_team_member(team))). For routing, and for finding what a
 * policy reads, a call of a SQL function whose body is one SELECT is
 * replaced by that SELECT as a scalar sub-query (or by its one expression,
 * when it has nothing else), its parameters replaced by the call's
 * arguments; the walkers then see what the function does.
 *
 * This only serves the router and registration, never the evaluation of a
 * cohort, which calls the function as written. That is why the function's
 * SECURITY DEFINER, SET clauses and STRICT can be ignored: the router only
 * has to name at least every user who can see a row, and it runs as the
 * refresher with row_security off. SECURITY DEFINER changes whose privileges
 * and row-level security apply inside the body; the router reads the body's
 * tables with all their rows whoever the definer is (or fails, when
 * row-level security would filter them for the refresher), as it reads the
 * sub-queries written in a policy; where more rows could name fewer users
 * (NOT, scalar sub-queries: see polarity_bad), the policy is not routed. STRICT makes
 * the function NULL for a NULL argument, and a NULL condition shows no row,
 * so the body in its place can only show more. The router itself is not
 * SECURITY DEFINER: a caller without the definer's privileges gets an error,
 * never rows. A body that returns more than one row fails as a sub-query
 * where the function would take the first row: the router then fails and
 * the tick evaluates every cohort.
 *
 * Of the SET clauses only search_path matters, and only while the body
 * (prosrc) is parsed: it is parsed under the function's own settings, so
 * names resolve as when the function runs. The parsed tree names objects by
 * OID, so the router does not depend on any search_path afterwards.
 *
 * Functions of pg_catalog, auth and pgr are never inlined: the walkers know
 * them by name. Nor are procedures, set-returning, VARIADIC or polymorphic
 * functions, functions with OUT parameters or a composite result, bodies of
 * more than one statement or that do not parse, nor a function already being
 * inlined (recursion) or deeper than INLINE_MAX_DEPTH helpers: the call stays
 * in place and the walkers reject it. Default arguments are filled in from
 * the function's definition, as the planner does.
 */
#define INLINE_MAX_DEPTH 8

typedef struct InlineContext
{
	Oid			uid;			/* auth.uid(), never inlined */
	List	   *active;			/* the helpers being inlined, outermost first */
}			InlineContext;

typedef struct ArgsContext
{
	List	   *args;			/* the call's arguments, by parameter number */
	int			depth;			/* query levels between the call and here */
}			ArgsContext;

static Node *inline_mutator(Node *node, InlineContext * ctx);

/* The body of SQL function proctup as one SELECT, or NULL. May raise. */
static Query *
parse_helper_body(FuncExpr *call, HeapTuple proctup)
{
	Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(proctup);
	Datum		d;
	bool		isnull;
	List	   *queries;
	Query	   *q;

	d = SysCacheGetAttr(PROCOID, proctup, Anum_pg_proc_prosqlbody, &isnull);
	if (!isnull)
	{
		/* BEGIN ATOMIC (a list of statement lists) or RETURN (one Query). */
		Node	   *n = stringToNode(TextDatumGetCString(d));

		if (IsA(n, List) && list_length((List *) n) != 1)
			return NULL;		/* more than one statement: the last one counts */
		queries = IsA(n, List) ? linitial_node(List, castNode(List, n)) : list_make1(n);
	}
	else
	{
		char	   *src;
		List	   *raw;
		ParseState *pstate;
		int			nestlevel = -1;

		d = SysCacheGetAttr(PROCOID, proctup, Anum_pg_proc_prosrc, &isnull);
		if (isnull)
			return NULL;
		src = TextDatumGetCString(d);
		d = SysCacheGetAttr(PROCOID, proctup, Anum_pg_proc_proconfig, &isnull);
		if (!isnull)
		{
			/* As fmgr_security_definer applies them around a call. */
			nestlevel = NewGUCNestLevel();
			ProcessGUCArray(DatumGetArrayTypeP(d), superuser() ? PGC_SUSET : PGC_USERSET,
							PGC_S_SESSION, GUC_ACTION_SAVE);
		}
		raw = pg_parse_query(src);
		if (list_length(raw) != 1)
			queries = NIL;
		else
		{
			pstate = make_parsestate(NULL);
			pstate->p_sourcetext = src;
			sql_fn_parser_setup(pstate, prepare_sql_fn_parse_info(proctup, (Node *) call, call->inputcollid));
			queries = list_make1(transformTopLevelStmt(pstate, linitial_node(RawStmt, raw)));
			free_parsestate(pstate);
		}
		if (nestlevel >= 0)
			AtEOXact_GUC(true, nestlevel);
	}
	if (list_length(queries) != 1 || !IsA(linitial(queries), Query))
		return NULL;
	q = linitial_node(Query, queries);
	if (q->commandType != CMD_SELECT || q->utilityStmt != NULL)
		return NULL;
	/*
	 * One column, of exactly the result type: a body that relies on a
	 * coercion to it is not inlined (check_sql_fn_retval would coerce it, but
	 * its signature differs between PostgreSQL versions).
	 */
	{
		TargetEntry *te;

		if (list_length(q->targetList) != 1)
			return NULL;
		te = linitial_node(TargetEntry, q->targetList);
		if (te->resjunk || exprType((Node *) te->expr) != proc->prorettype)
			return NULL;
	}
	return q;
}

/*
 * parse_helper_body in a subtransaction: a body that no longer parses (a
 * dropped table, a search_path it was not written for) is not inlined.
 */
static Query *
helper_body(FuncExpr *call, HeapTuple proctup)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	Query	   *volatile q = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		q = parse_helper_body(call, proctup);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		q = NULL;
	}
	PG_END_TRY();
	return q;
}

/*
 * Replaces the parameters of an inlined body by the call's arguments, whose
 * Vars now sit depth query levels further down.
 */
static Node *
args_mutator(Node *node, ArgsContext * ctx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param))
	{
		Param	   *p = (Param *) node;
		Node	   *arg;

		if (p->paramkind != PARAM_EXTERN || p->paramid < 1 || p->paramid > list_length(ctx->args))
			return copyObject(node);
		arg = copyObject(list_nth(ctx->args, p->paramid - 1));
		IncrementVarSublevelsUp(arg, ctx->depth, 0);
		return arg;
	}
	if (IsA(node, Query))
	{
		Query	   *q;

		ctx->depth++;
		q = query_tree_mutator((Query *) node, args_mutator, ctx, 0);
		ctx->depth--;
		return (Node *) q;
	}
	return expression_tree_mutator(node, args_mutator, ctx);
}

/* The call as (SELECT <body>), or NULL when it cannot be inlined. */
static Node *
inline_helper(FuncExpr *call, InlineContext * ctx)
{
	HeapTuple	tp;
	Form_pg_proc proc;
	Oid			nsp;
	char	   *nspname;
	bool		ok;
	List	   *args = NIL;
	Query	   *body = NULL;
	ArgsContext actx;
	SubLink    *sl;
	int			i;

	if (call->funcid == ctx->uid || call->funcretset || call->funcvariadic ||
		list_length(ctx->active) >= INLINE_MAX_DEPTH || list_member_oid(ctx->active, call->funcid))
		return NULL;
	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(call->funcid));
	if (!HeapTupleIsValid(tp))
		return NULL;
	proc = (Form_pg_proc) GETSTRUCT(tp);
	nsp = proc->pronamespace;
	nspname = get_namespace_name(nsp);
	ok = proc->prolang == SQLlanguageId && proc->prokind == PROKIND_FUNCTION && !proc->proretset &&
		!OidIsValid(proc->provariadic) && nsp != PG_CATALOG_NAMESPACE && nspname != NULL &&
		strcmp(nspname, "auth") != 0 && strcmp(nspname, "pgr") != 0 &&
		heap_attisnull(tp, Anum_pg_proc_proallargtypes, NULL) &&
		!IsPolymorphicType(proc->prorettype) && proc->prorettype != RECORDOID &&
		proc->prorettype != VOIDOID && get_typtype(proc->prorettype) != TYPTYPE_COMPOSITE &&
		get_typtype(proc->prorettype) != TYPTYPE_PSEUDO;
	for (i = 0; ok && i < proc->pronargs; i++)
		ok = !IsPolymorphicType(proc->proargtypes.values[i]);
	if (ok)
	{
		/* Named arguments in order, defaults filled in. */
		args = expand_function_arguments(call->args, false, call->funcresulttype, tp);
		ok = list_length(args) == proc->pronargs;
	}
	if (ok)
		body = helper_body(call, tp);
	ReleaseSysCache(tp);
	if (body == NULL)
		return NULL;

	/* Helpers the body calls, then the arguments in place of $n. */
	ctx->active = lappend_oid(ctx->active, call->funcid);
	body = (Query *) inline_mutator((Node *) body, ctx);
	ctx->active = list_delete_last(ctx->active);
	actx.args = args;
	actx.depth = 0;

	/*
	 * SELECT <expression> alone yields exactly one row: the expression
	 * itself then stands for the call, as the planner would inline it (so
	 * an EXISTS in it can become a semi-join in the router).
	 */
	if (body->rtable == NIL && body->jointree != NULL && body->jointree->fromlist == NIL &&
		body->jointree->quals == NULL && body->cteList == NIL && !body->hasAggs &&
		!body->hasWindowFuncs && !body->hasTargetSRFs && body->groupClause == NIL &&
		body->groupingSets == NIL && body->havingQual == NULL && body->distinctClause == NIL &&
		body->sortClause == NIL && body->limitCount == NULL && body->limitOffset == NULL &&
		body->setOperations == NULL && list_length(body->targetList) == 1 &&
		!linitial_node(TargetEntry, body->targetList)->resjunk)
		return args_mutator((Node *) linitial_node(TargetEntry, body->targetList)->expr, &actx);

	body = (Query *) args_mutator((Node *) body, &actx);
	body->hasSubLinks = true;	/* arguments may have brought some */
	body->isReturn = false;		/* a RETURN body reads as SELECT */

	sl = makeNode(SubLink);
	sl->subLinkType = EXPR_SUBLINK;
	sl->subLinkId = 0;
	sl->testexpr = NULL;
	sl->operName = NIL;
	sl->subselect = (Node *) body;
	sl->location = call->location;
	return (Node *) sl;
}

/* Replaces every inlinable helper call, innermost arguments first. */
static Node *
inline_mutator(Node *node, InlineContext * ctx)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, inline_mutator, ctx, 0);
	if (IsA(node, FuncExpr))
	{
		FuncExpr   *call = (FuncExpr *) expression_tree_mutator(node, inline_mutator, ctx);
		Node	   *inlined = inline_helper(call, ctx);

		return inlined != NULL ? inlined : (Node *) call;
	}
	return expression_tree_mutator(node, inline_mutator, ctx);
}

/* auth.uid(), when it exists and returns a uuid. */
static Oid
auth_uid_oid(void)
{
	Oid			uid = LookupFuncName(list_make2(makeString("auth"), makeString("uid")), 0, NULL, true);

	if (OidIsValid(uid) && get_func_rettype(uid) != UUIDOID)
		uid = InvalidOid;
	return uid;
}

/*
 * pgr._route_qual(rel): the condition under which a row of rel may be visible
 * to the user whose auth.uid() is $1 (a uuid), as SQL over the alias
 * quote_ident(relname) of rel: the OR of the USING expressions of rel's
 * permissive policies that apply to SELECT, with auth.uid() replaced by $1.
 * Names outside pg_catalog come out schema-qualified (as in pg_dump). NULL
 * when rel has no such policy or one of them is not routable (see
 * route_walker) once the SQL helper functions it calls are inlined (see
 * inline_helper). Restrictive policies only narrow what a user sees and are
 * left out: the condition holds for at least every user who can see a row.
 */
Datum
pgr_route_qual(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	RouteContext ctx;
	InlineContext ictx;
	Relation	polrel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *quals = NIL;
	bool		routable = true;
	char	   *relname;
	Node	   *expr;
	char	   *sql;
	int			nestlevel;

	relname = get_rel_name(relid);
	if (relname == NULL)
		PG_RETURN_NULL();
	ctx.uid = auth_uid_oid();
	ictx.uid = ctx.uid;
	ictx.active = NIL;

	polrel = table_open(PolicyRelationId, AccessShareLock);
	ScanKeyInit(&skey, Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(relid));
	scan = systable_beginscan(polrel, PolicyPolrelidPolnameIndexId, true, NULL, 1, &skey);
	while (routable && HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_policy pol = (Form_pg_policy) GETSTRUCT(tup);
		Datum		d;
		bool		isnull;
		Node	   *qual;

		if (!pol->polpermissive || (pol->polcmd != ACL_SELECT_CHR && pol->polcmd != '*'))
			continue;
		d = heap_getattr(tup, Anum_pg_policy_polqual, RelationGetDescr(polrel), &isnull);
		if (isnull)
			continue;			/* no USING: the policy lets no row be read */
		qual = inline_mutator((Node *) stringToNode(TextDatumGetCString(d)), &ictx);
		if (route_walker(qual, &ctx) || polarity_bad(qual, POLARITY_POSITIVE))
			routable = false;
		else
			quals = lappend(quals, route_mutator(qual, &ctx));
	}
	systable_endscan(scan);
	table_close(polrel, AccessShareLock);
	if (!routable || quals == NIL)
		PG_RETURN_NULL();

	expr = list_length(quals) == 1 ? linitial(quals) : (Node *) makeBoolExpr(OR_EXPR, quals, -1);
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	sql = deparse_expression(expr, deparse_context_for(relname, relid), true, false);
	AtEOXact_GUC(true, nestlevel);
	PG_RETURN_TEXT_P(cstring_to_text(sql));
}

typedef struct RefsContext
{
	List	   *rels;			/* relations read */
	List	   *funcs;			/* functions called */
}			RefsContext;

/*
 * Collects the functions called by name (as pg_depend records them for a
 * policy: not those behind operators and casts) and the relations read.
 */
static bool
refs_walker(Node *node, RefsContext * ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncExpr))
		ctx->funcs = list_append_unique_oid(ctx->funcs, ((FuncExpr *) node)->funcid);
	else if (IsA(node, Aggref))
		ctx->funcs = list_append_unique_oid(ctx->funcs, ((Aggref *) node)->aggfnoid);
	else if (IsA(node, WindowFunc))
		ctx->funcs = list_append_unique_oid(ctx->funcs, ((WindowFunc *) node)->winfnoid);
	if (IsA(node, Query))
	{
		ListCell   *lc;

		foreach(lc, ((Query *) node)->rtable)
		{
			RangeTblEntry *rte = lfirst_node(RangeTblEntry, lc);

			if (rte->rtekind == RTE_RELATION)
				ctx->rels = list_append_unique_oid(ctx->rels, rte->relid);
		}
		return query_tree_walker((Query *) node, refs_walker, ctx, 0);
	}
	return expression_tree_walker(node, refs_walker, ctx);
}

static Datum
oid_array(List *oids)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(oids) + 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, oids)
		elems[n++] = ObjectIdGetDatum(lfirst_oid(lc));
	return PointerGetDatum(construct_array(elems, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
}

/*
 * pgr._policy_refs(tables, OUT rels, OUT funcs): the relations the policies
 * of tables read in their expressions (USING and WITH CHECK, any command) and
 * the functions they call, once the SQL helper functions they call are
 * inlined (see inline_helper): the helpers' tables and functions instead of
 * the helpers. A table's own policies do not count as reading it unless an
 * expression reads it.
 */
Datum
pgr_policy_refs(PG_FUNCTION_ARGS)
{
	ArrayType  *tables = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	int			nelems;
	int			i;
	InlineContext ictx;
	RefsContext ctx = {NIL, NIL};
	Relation	polrel;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR, (errmsg("pgr._policy_refs: return type must be a row type")));
	deconstruct_array(tables, OIDOID, sizeof(Oid), true, TYPALIGN_INT, &elems, NULL, &nelems);
	ictx.uid = auth_uid_oid();
	ictx.active = NIL;
	polrel = table_open(PolicyRelationId, AccessShareLock);
	for (i = 0; i < nelems; i++)
	{
		ScanKeyData skey;
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&skey, Anum_pg_policy_polrelid, BTEqualStrategyNumber, F_OIDEQ, elems[i]);
		scan = systable_beginscan(polrel, PolicyPolrelidPolnameIndexId, true, NULL, 1, &skey);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			AttrNumber	atts[2] = {Anum_pg_policy_polqual, Anum_pg_policy_polwithcheck};
			int			j;

			for (j = 0; j < 2; j++)
			{
				bool		isnull;
				Datum		d = heap_getattr(tup, atts[j], RelationGetDescr(polrel), &isnull);

				if (!isnull)
					(void) refs_walker(inline_mutator((Node *) stringToNode(TextDatumGetCString(d)), &ictx), &ctx);
			}
		}
		systable_endscan(scan);
	}
	table_close(polrel, AccessShareLock);
	values[0] = oid_array(ctx.rels);
	values[1] = oid_array(ctx.funcs);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * pgr._call_eval(fn, keys): calls the generated function fn(keys text[])
 * returning jsonb, as SELECT fn(keys) would, without parsing and planning
 * that statement for every cohort.
 */
Datum
pgr_call_eval(PG_FUNCTION_ARGS)
{
	Oid			fn = PG_GETARG_OID(0);
	FmgrInfo	flinfo;
	Datum		result;

	LOCAL_FCINFO(call, 1);

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
						errmsg("the function of this live query does not exist")));
	if (get_func_rettype(fn) != JSONBOID || get_func_nargs(fn) != 1)
		ereport(ERROR, (errmsg("pgr._call_eval: %u is not a function (text[]) returning jsonb", fn)));
	if (proc_aclcheck(fn, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FUNCTION, get_func_name(fn));
	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*call, &flinfo, 1, PG_GET_COLLATION(), NULL, NULL);
	call->args[0].value = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	call->args[0].isnull = PG_ARGISNULL(1);
	result = FunctionCallInvoke(call);
	if (call->isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * One tick: pgr.refresh() in a REPEATABLE READ transaction, if the extension
 * is installed in this database. Errors (a serialization failure against a
 * concurrent attach, a broken query) are logged and the next tick retries.
 */
static bool
pgr_tick(void)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	bool		ok = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	XactIsoLevel = XACT_REPEATABLE_READ;
	PG_TRY();
	{
		int			ret;

		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "SELECT pgr.refresh()");
		ret = SPI_execute("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_reactive'", true, 1);
		if (ret == SPI_OK_SELECT && SPI_processed == 1)
			SPI_execute("SELECT pgr.refresh()", false, 1);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		if (edata->sqlerrcode != ERRCODE_T_R_SERIALIZATION_FAILURE &&
			edata->sqlerrcode != ERRCODE_T_R_DEADLOCK_DETECTED)
			ereport(LOG, (errmsg("pg_reactive: refresh failed: %s", edata->message)));
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);
	pgstat_report_stat(false);
	return ok;
}

static void
pgr_worker_exit(int code, Datum arg)
{
	pg_atomic_write_u32(&pgr_shared->worker_procno, NO_WORKER);
}

void
pgr_worker_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(pgr_database, NULL, 0);
	pgstat_report_appname("pg_reactive refresher");
	pg_atomic_write_u32(&pgr_shared->worker_procno, MyProc->pgprocno);
	before_shmem_exit(pgr_worker_exit, 0);
	ereport(LOG, (errmsg("pg_reactive: refresher started in database \"%s\"", pgr_database)));

	/*
	 * Tick first: changes committed while no worker ran are waiting. After
	 * that, commits wake the worker; naptime is only a safety net, except
	 * after a failed tick (a concurrent attach or refresh won), whose changes
	 * are still waiting: that one is retried soon.
	 */
	for (;;)
	{
		bool		ok;

		ResetLatch(MyLatch);
		ok = pgr_tick();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ok ? pgr_naptime : Min(pgr_naptime, PGR_RETRY_MS), PG_WAIT_EXTENSION);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

void
_PG_init(void)
{
	BackgroundWorker worker;

	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomStringVariable("pg_reactive.database",
							   "Database whose live queries the background worker refreshes (empty: no worker).",
							   NULL, &pgr_database, "", PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_reactive.naptime",
							"Longest wait between two refresh ticks, in milliseconds; commits wake the worker earlier.",
							NULL, &pgr_naptime, 1000, 1, 60000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	MarkGUCPrefixReserved("pg_reactive");

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = pgr_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = pgr_shmem_startup;

	if (pgr_database == NULL || pgr_database[0] == '\0')
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_reactive");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pgr_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_reactive refresher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_reactive refresher");
	RegisterBackgroundWorker(&worker);
}
