package postgrest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Column is a column of an exposed table or view.
type Column struct {
	Name     string
	Type     string // format_type: integer, character varying(20), public.mood
	BaseType string // pg_type.typname after resolving domains: int4, jsonb, tsvector
	Nullable bool
	// Default is the column's default expression from the catalog, "" if none.
	Default     string
	Generated   bool
	Description string
	// Computed is the function behind a computed field.
	Computed *Function
}

// Table is an exposed table, view, materialized view or foreign table.
type Table struct {
	Schema      string
	Name        string
	IsView      bool
	Insertable  bool
	Updatable   bool
	Deletable   bool
	Description string
	Columns     []*Column
	PK          []string
	Rels        []*Relationship

	cols    map[string]*Column
	uniques [][]string
}

// Column returns the named column.
func (t *Table) Column(name string) (*Column, bool) {
	c, ok := t.cols[name]
	return c, ok
}

// QualifiedName is "schema"."name", quoted.
func (t *Table) QualifiedName() string { return pgx.Identifier{t.Schema, t.Name}.Sanitize() }

// Cardinality of a relationship, seen from its origin.
type Cardinality string

const (
	ManyToOne  Cardinality = "many-to-one"
	OneToMany  Cardinality = "one-to-many"
	OneToOne   Cardinality = "one-to-one"
	ManyToMany Cardinality = "many-to-many"
)

// Relationship is a way to embed To in rows of From.
type Relationship struct {
	From, To    *Table
	Cardinality Cardinality
	Constraint  string
	// FromCols[i] of From equals ToCols[i] of To (not for many-to-many).
	FromCols, ToCols []string
	// Many-to-many through Junction: Junction.JFromCols = From.FromCols and
	// Junction.JToCols = To.ToCols.
	Junction             *Table
	JFromCols, JToCols   []string
	JunctionToConstraint string
	// Computed is the function behind a computed relationship.
	Computed *Function
	// fkOnFrom says the foreign key is on From (many-to-one, or the
	// referencing side of a one-to-one).
	fkOnFrom bool
}

// FKOnFrom reports whether the foreign key is on From (a many-to-one
// relationship, or the referencing side of a one-to-one).
func (r *Relationship) FKOnFrom() bool { return r.fkOnFrom }

// ToOne reports whether the embed is an object rather than an array.
func (r *Relationship) ToOne() bool {
	return r.Cardinality == ManyToOne || r.Cardinality == OneToOne
}

// FuncArg is an input argument of a function.
type FuncArg struct {
	Name       string
	Type       string // format_type of the argument type
	BaseType   string
	HasDefault bool
	Variadic   bool
}

// Function is an exposed function callable at /rpc.
type Function struct {
	Schema       string
	Name         string
	Args         []FuncArg
	ReturnType   string // format_type of the return type
	RetBaseType  string
	RetSet       bool
	RetVoid      bool
	RetComposite bool   // a row type, a composite type or OUT/TABLE columns
	RetTable     *Table // the exposed table whose row type it returns, if any
	// RetColumns are the output columns of a composite result.
	RetColumns []string
	// RowArg is the exposed table whose row type is the only argument
	// (computed fields and computed relationships), nil otherwise.
	RowArg *Table
	// Rows is the planner's row estimate (ROWS 1 makes a computed
	// relationship to-one).
	Rows        float32
	Volatility  byte // 'i', 's', 'v'
	Description string
}

// Cache is an immutable snapshot of the exposed schemas. Reloads build a new
// one; requests keep the snapshot they started with.
type Cache struct {
	Schemas   []string
	tables    map[string]*Table // schema + "." + name
	functions map[string][]*Function
}

// Table returns the exposed table or view.
func (c *Cache) Table(schema, name string) (*Table, bool) {
	t, ok := c.tables[schema+"\x00"+name]
	return t, ok
}

// Functions returns the overloads of schema.name.
func (c *Cache) Functions(schema, name string) []*Function {
	return c.functions[schema+"\x00"+name]
}

// Tables returns the tables of a schema sorted by name.
func (c *Cache) Tables(schema string) []*Table {
	var out []*Table
	for _, t := range c.tables {
		if t.Schema == schema {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AllFunctions returns the functions of a schema sorted by name.
func (c *Cache) AllFunctions(schema string) []*Function {
	var out []*Function
	for _, fs := range c.functions {
		for _, f := range fs {
			if f.Schema == schema {
				out = append(out, f)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

const tablesSQL = `
SELECT n.nspname, c.relname, c.relkind IN ('v', 'm'),
  CASE WHEN c.relkind IN ('r', 'p') THEN true ELSE (pg_catalog.pg_relation_is_updatable(c.oid, true) & 8) = 8 END,
  CASE WHEN c.relkind IN ('r', 'p') THEN true ELSE (pg_catalog.pg_relation_is_updatable(c.oid, true) & 4) = 4 END,
  CASE WHEN c.relkind IN ('r', 'p') THEN true ELSE (pg_catalog.pg_relation_is_updatable(c.oid, true) & 16) = 16 END,
  coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), ''),
  coalesce((SELECT array_agg(a.attname::text ORDER BY k.n)
     FROM pg_catalog.pg_constraint con,
          unnest(con.conkey) WITH ORDINALITY AS k(attnum, n),
          pg_catalog.pg_attribute a
     WHERE con.conrelid = c.oid AND con.contype = 'p' AND a.attrelid = c.oid AND a.attnum = k.attnum), '{}'),
  coalesce((SELECT array_agg((SELECT string_agg(a.attname::text, ',' ORDER BY a.attname)
       FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = ANY(con.conkey)))
     FROM pg_catalog.pg_constraint con WHERE con.conrelid = c.oid AND con.contype IN ('p', 'u')), '{}')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition`

const columnsSQL = `
SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
  bt.typname, NOT a.attnotnull,
  coalesce(CASE
    WHEN a.attidentity <> '' THEN format('nextval(%L::regclass)',
      pg_catalog.pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname))
    WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(d.adbin, d.adrelid)
    END, ''),
  a.attgenerated <> '',
  coalesce(pg_catalog.col_description(c.oid, a.attnum), '')
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY n.nspname, c.relname, a.attnum`

const foreignKeysSQL = `
SELECT con.conname, n1.nspname, c1.relname,
  array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, i)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.i),
  n2.nspname, c2.relname,
  array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, i)
        JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.i)
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class c1 ON c1.oid = con.conrelid
JOIN pg_catalog.pg_namespace n1 ON n1.oid = c1.relnamespace
JOIN pg_catalog.pg_class c2 ON c2.oid = con.confrelid
JOIN pg_catalog.pg_namespace n2 ON n2.oid = c2.relnamespace
WHERE con.contype = 'f' AND con.conparentid = 0
  AND n1.nspname = ANY($1) AND n2.nspname = ANY($1)
ORDER BY con.conname`

const functionsSQL = `
SELECT n.nspname, p.proname, p.provolatile::text, p.proretset,
  pg_catalog.format_type(p.prorettype, NULL),
  (SELECT bt.typname::text FROM pg_catalog.pg_type bt
   WHERE bt.oid = CASE WHEN rt.typtype = 'd' THEN rt.typbasetype ELSE rt.oid END),
  p.prorettype = 'pg_catalog.void'::regtype,
  rt.typrelid <> 0 OR p.prorettype = 'pg_catalog.record'::regtype,
  coalesce(rtn.nspname, ''), coalesce(rtc.relname, ''),
  coalesce(p.proargnames, '{}'), coalesce(p.proargmodes::text[], '{}'),
  array(SELECT pg_catalog.format_type(t, NULL) FROM unnest(p.proargtypes) t),
  array(SELECT bt.typname::text FROM unnest(p.proargtypes) WITH ORDINALITY u(t, i)
        JOIN pg_catalog.pg_type ty ON ty.oid = u.t
        JOIN pg_catalog.pg_type bt ON bt.oid = CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END
        ORDER BY u.i),
  p.pronargdefaults, p.provariadic <> 0,
  coalesce(pg_catalog.obj_description(p.oid, 'pg_proc'), ''),
  array(SELECT a.attname::text FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = rt.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
  coalesce((SELECT an.nspname || '.' || ac.relname FROM pg_catalog.pg_type at
     JOIN pg_catalog.pg_class ac ON ac.oid = at.typrelid
     JOIN pg_catalog.pg_namespace an ON an.oid = ac.relnamespace
     WHERE p.pronargs = 1 AND at.oid = p.proargtypes[0]), ''),
  p.prorows
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_type rt ON rt.oid = p.prorettype
LEFT JOIN pg_catalog.pg_class rtc ON rtc.oid = rt.typrelid
LEFT JOIN pg_catalog.pg_namespace rtn ON rtn.oid = rtc.relnamespace
WHERE n.nspname = ANY($1) AND p.prokind = 'f' AND p.prorettype <> 'pg_catalog.trigger'::regtype`

// LoadCache reads the exposed schemas from the catalog through pool (the
// owner pool).
func LoadCache(ctx context.Context, pool *pgxpool.Pool, schemas []string) (*Cache, error) {
	q := pool
	c := &Cache{Schemas: schemas, tables: map[string]*Table{}, functions: map[string][]*Function{}}
	rows, err := q.Query(ctx, tablesSQL, schemas)
	if err != nil {
		return nil, fmt.Errorf("load tables: %w", err)
	}
	for rows.Next() {
		t := &Table{cols: map[string]*Column{}}
		var uniques []string
		if err := rows.Scan(&t.Schema, &t.Name, &t.IsView, &t.Insertable, &t.Updatable, &t.Deletable,
			&t.Description, &t.PK, &uniques); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load tables: %w", err)
		}
		for _, u := range uniques {
			cols := strings.Split(u, ",")
			sort.Strings(cols)
			t.uniques = append(t.uniques, cols)
		}
		c.tables[t.Schema+"\x00"+t.Name] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load tables: %w", err)
	}

	rows, err = q.Query(ctx, columnsSQL, schemas)
	if err != nil {
		return nil, fmt.Errorf("load columns: %w", err)
	}
	for rows.Next() {
		var schema, table string
		col := &Column{}
		if err := rows.Scan(&schema, &table, &col.Name, &col.Type, &col.BaseType, &col.Nullable,
			&col.Default, &col.Generated, &col.Description); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load columns: %w", err)
		}
		if t, ok := c.Table(schema, table); ok {
			t.Columns = append(t.Columns, col)
			t.cols[col.Name] = col
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load columns: %w", err)
	}

	type fk struct {
		name                 string
		fromSchema, fromName string
		fromCols             []string
		toSchema, toName     string
		toCols               []string
	}
	var fks []fk
	rows, err = q.Query(ctx, foreignKeysSQL, schemas)
	if err != nil {
		return nil, fmt.Errorf("load foreign keys: %w", err)
	}
	for rows.Next() {
		var f fk
		if err := rows.Scan(&f.name, &f.fromSchema, &f.fromName, &f.fromCols, &f.toSchema, &f.toName, &f.toCols); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load foreign keys: %w", err)
		}
		fks = append(fks, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load foreign keys: %w", err)
	}

	// Views: which base-table column each view column exposes.
	viewMap, err := viewOrigins(ctx, pool, c, schemas)
	if err != nil {
		return nil, err
	}
	type source struct {
		t    *Table
		cols []string
	}
	// sources lists a relation and the views exposing all of its cols, with
	// the views' names for them.
	sources := func(t *Table, cols []string) []source {
		out := []source{{t, cols}}
		for _, v := range sortedViews(viewMap) {
			m := viewMap[v][t]
			if m == nil {
				continue
			}
			var vc []string
			for _, col := range cols {
				n, ok := m[col]
				if !ok {
					vc = nil
					break
				}
				vc = append(vc, n)
			}
			if vc != nil {
				out = append(out, source{v, vc})
			}
		}
		return out
	}
	for _, v := range sortedViews(viewMap) {
		// A view over one table exposing its whole primary key gets that key.
		if len(v.PK) == 0 && len(viewMap[v]) == 1 {
			for base, m := range viewMap[v] {
				var pk []string
				for _, k := range base.PK {
					if n, ok := m[k]; ok {
						pk = append(pk, n)
					} else {
						pk = nil
						break
					}
				}
				if len(pk) > 0 {
					v.PK = pk
					v.uniques = append(v.uniques, sortedCopy(pk))
				}
			}
		}
	}

	for _, f := range fks {
		from, ok1 := c.Table(f.fromSchema, f.fromName)
		to, ok2 := c.Table(f.toSchema, f.toName)
		if !ok1 || !ok2 {
			continue
		}
		for _, src := range sources(from, f.fromCols) {
			for _, dst := range sources(to, f.toCols) {
				oneToOne := src.t.hasUnique(src.cols)
				m2o := &Relationship{From: src.t, To: dst.t, Constraint: f.name, FromCols: src.cols, ToCols: dst.cols,
					Cardinality: ManyToOne, fkOnFrom: true}
				o2m := &Relationship{From: dst.t, To: src.t, Constraint: f.name, FromCols: dst.cols, ToCols: src.cols,
					Cardinality: OneToMany}
				if oneToOne {
					m2o.Cardinality, o2m.Cardinality = OneToOne, OneToOne
				}
				src.t.Rels = append(src.t.Rels, m2o)
				dst.t.Rels = append(dst.t.Rels, o2m)
			}
		}
	}
	// Many-to-many through junction tables whose foreign key columns are part
	// of their primary key.
	byJunction := map[*Table][]fk{}
	for _, f := range fks {
		j, ok := c.Table(f.fromSchema, f.fromName)
		if ok && !j.IsView && len(j.PK) > 0 && all(f.fromCols, set(j.PK)) {
			byJunction[j] = append(byJunction[j], f)
		}
	}
	for j, list := range byJunction {
		for a, fa := range list {
			for b, fb := range list {
				if a == b {
					continue
				}
				from, ok1 := c.Table(fa.toSchema, fa.toName)
				to, ok2 := c.Table(fb.toSchema, fb.toName)
				if !ok1 || !ok2 {
					continue
				}
				from.Rels = append(from.Rels, &Relationship{From: from, To: to, Cardinality: ManyToMany,
					Constraint: fa.name, JunctionToConstraint: fb.name, Junction: j,
					FromCols: fa.toCols, JFromCols: fa.fromCols, ToCols: fb.toCols, JToCols: fb.fromCols})
			}
		}
	}

	rows, err = q.Query(ctx, functionsSQL, schemas)
	if err != nil {
		return nil, fmt.Errorf("load functions: %w", err)
	}
	for rows.Next() {
		f := &Function{}
		var vol, retSchema, retRel string
		var names, modes, types, baseTypes []string
		var ndefaults int16
		var rowArg string
		var variadic bool
		if err := rows.Scan(&f.Schema, &f.Name, &vol, &f.RetSet, &f.ReturnType, &f.RetBaseType, &f.RetVoid, &f.RetComposite,
			&retSchema, &retRel, &names, &modes, &types, &baseTypes, &ndefaults, &variadic, &f.Description,
			&f.RetColumns, &rowArg, &f.Rows); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load functions: %w", err)
		}
		f.Volatility = vol[0]
		// proargnames covers all arguments (OUT too) when proargmodes is set;
		// proargtypes only the input ones.
		var inNames []string
		if len(modes) == 0 {
			inNames = names
		} else {
			for i, m := range modes {
				if m == "i" || m == "b" || m == "v" {
					n := ""
					if i < len(names) {
						n = names[i]
					}
					inNames = append(inNames, n)
				}
			}
		}
		if len(f.RetColumns) == 0 && f.RetComposite {
			for i, m := range modes {
				if (m == "o" || m == "b" || m == "t") && i < len(names) {
					f.RetColumns = append(f.RetColumns, names[i])
				}
			}
		}
		for i, typ := range types {
			a := FuncArg{Type: typ, BaseType: baseTypes[i]}
			if i < len(inNames) {
				a.Name = inNames[i]
			}
			a.HasDefault = i >= len(types)-int(ndefaults)
			a.Variadic = variadic && i == len(types)-1
			f.Args = append(f.Args, a)
		}
		if retRel != "" {
			f.RetTable, _ = c.Table(retSchema, retRel)
		}
		if rowArg != "" {
			for _, t := range c.tables {
				if t.Schema+"."+t.Name == rowArg {
					f.RowArg = t
				}
			}
		}
		key := f.Schema + "\x00" + f.Name
		c.functions[key] = append(c.functions[key], f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load functions: %w", err)
	}
	c.addComputed()
	return c, nil
}

// addComputed turns functions taking one row of an exposed table into
// computed fields (scalar result) and computed relationships (a table's row
// type, SETOF or not), as PostgREST does. Computed fields are selectable,
// filterable and orderable by name but not part of *.
func (c *Cache) addComputed() {
	for _, fs := range c.functions {
		for _, f := range fs {
			t := f.RowArg
			if t == nil || f.RetVoid {
				continue
			}
			switch {
			case f.RetTable != nil:
				card := OneToMany
				if !f.RetSet || f.Rows == 1 {
					card = ManyToOne
				}
				r := &Relationship{From: t, To: f.RetTable, Cardinality: card, Computed: f}
				// A computed relationship overrides a detected one of the same name.
				t.Rels = slices.DeleteFunc(t.Rels, func(o *Relationship) bool { return o.Computed == nil && o.To.Name == f.Name })
				t.Rels = append(t.Rels, r)
			case !f.RetSet && !f.RetComposite:
				if _, taken := t.cols[f.Name]; taken {
					continue
				}
				t.cols[f.Name] = &Column{Name: f.Name, Type: f.ReturnType, BaseType: f.RetBaseType, Nullable: true, Computed: f}
			}
		}
	}
}

func (t *Table) hasUnique(cols []string) bool {
	want := sortedCopy(cols)
	for _, u := range t.uniques {
		if slices.Equal(u, want) {
			return true
		}
	}
	return false
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

func set(s []string) map[string]bool {
	m := make(map[string]bool, len(s))
	for _, v := range s {
		m[v] = true
	}
	return m
}

func all(cols []string, in map[string]bool) bool {
	for _, c := range cols {
		if !in[c] {
			return false
		}
	}
	return true
}

func sortedViews(m map[*Table]map[*Table]map[string]string) []*Table {
	out := make([]*Table, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Schema+"."+out[i].Name < out[j].Schema+"."+out[j].Name })
	return out
}

const attributesSQL = `
SELECT c.oid, a.attnum, n.nspname, c.relname, a.attname
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition
  AND a.attnum > 0 AND NOT a.attisdropped`

const viewDefsSQL = `
SELECT c.oid, pg_catalog.pg_get_viewdef(c.oid)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY($1) AND c.relkind IN ('v', 'm')`

type colRef struct {
	t   *Table
	col string
}

// viewOrigins maps, for every exposed view, the base-table columns its
// columns expose: view -> base table -> base column -> view column. The
// origins are the ones PostgreSQL reports for the view's defining query
// (the table and column of each output column, as in a RowDescription), so
// renamed columns and joins are followed; views over views are followed to
// their base tables. A view whose definition cannot be described is skipped.
func viewOrigins(ctx context.Context, pool *pgxpool.Pool, c *Cache, schemas []string) (map[*Table]map[*Table]map[string]string, error) {
	byOid := map[uint32]map[int16]colRef{}
	rows, err := pool.Query(ctx, attributesSQL, schemas)
	if err != nil {
		return nil, fmt.Errorf("load attributes: %w", err)
	}
	for rows.Next() {
		var oid uint32
		var attnum int16
		var schema, rel, col string
		if err := rows.Scan(&oid, &attnum, &schema, &rel, &col); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load attributes: %w", err)
		}
		if t, ok := c.Table(schema, rel); ok {
			if byOid[oid] == nil {
				byOid[oid] = map[int16]colRef{}
			}
			byOid[oid][attnum] = colRef{t, col}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load attributes: %w", err)
	}
	type viewDef struct {
		oid uint32
		sql string
	}
	var defs []viewDef
	rows, err = pool.Query(ctx, viewDefsSQL, schemas)
	if err != nil {
		return nil, fmt.Errorf("load view definitions: %w", err)
	}
	for rows.Next() {
		var d viewDef
		if err := rows.Scan(&d.oid, &d.sql); err != nil {
			rows.Close()
			return nil, fmt.Errorf("load view definitions: %w", err)
		}
		defs = append(defs, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load view definitions: %w", err)
	}
	direct := map[colRef]colRef{} // view column -> the column it selects
	if len(defs) > 0 {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("load view definitions: %w", err)
		}
		defer conn.Release()
		for _, d := range defs {
			sd, err := conn.Conn().PgConn().Prepare(ctx, "", d.sql, nil)
			if err != nil {
				continue
			}
			for i, f := range sd.Fields {
				view, ok := byOid[d.oid][int16(i+1)]
				origin, ok2 := byOid[f.TableOID][int16(f.TableAttributeNumber)]
				if ok && ok2 && f.TableOID != 0 {
					direct[view] = origin
				}
			}
		}
	}
	out := map[*Table]map[*Table]map[string]string{}
	for view, o := range direct {
		for depth := 0; o.t.IsView && depth < 16; depth++ {
			next, ok := direct[o]
			if !ok {
				break
			}
			o = next
		}
		if o.t.IsView || o.t == view.t {
			continue
		}
		if out[view.t] == nil {
			out[view.t] = map[*Table]map[string]string{}
		}
		if out[view.t][o.t] == nil {
			out[view.t][o.t] = map[string]string{}
		}
		if _, taken := out[view.t][o.t][o.col]; !taken {
			out[view.t][o.t][o.col] = view.col
		}
	}
	return out, nil
}
