package postgrest

import (
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Statement is the SQL of a plan: one main statement whose single row is
// (total_result_set, page_total, body, response_headers, response_status,
// response_inserted, location), and optionally an EXPLAIN for planned counts.
// Every value is a bound parameter sent as text, typed by PostgreSQL from its
// context, so the SQL text depends only on the shape of the request.
type Statement struct {
	SQL       string
	Args      []any
	CountSQL  string // EXPLAIN (FORMAT JSON) of the count query, for count=planned|estimated
	CountArgs []any
}

type builder struct {
	args  []any
	alias int
	// laterals are the SQL aliases of the embeds rendered so far; related
	// orders and embed null filters reference them.
	laterals map[*EmbedNode]embedAliases
	// groupBy is the GROUP BY of the node itemsAndJoins rendered last.
	groupBy []string
	// rowRefs maps a schema-qualified column qualifier to the name that
	// references the whole row (computed fields and relationships take it).
	rowRefs map[string]string
}

func (b *builder) rowRef(qual string) string {
	if r, ok := b.rowRefs[qual]; ok {
		return r
	}
	return qual
}

func (b *builder) qualified(t *Table) string {
	q := t.QualifiedName()
	if b.rowRefs == nil {
		b.rowRefs = map[string]string{}
	}
	b.rowRefs[q] = ident(t.Name)
	return q
}

func (b *builder) arg(v string) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *builder) next(prefix string) string {
	b.alias++
	return ident(prefix + strconv.Itoa(b.alias))
}

func ident(parts ...string) string { return pgx.Identifier(parts).Sanitize() }

// literal quotes a catalog name as an SQL string literal, whatever
// standard_conforming_strings is: with backslashes it uses the E'...' form.
func literal(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\x00", ""), "'", "''")
	if strings.Contains(s, `\`) {
		return "E'" + strings.ReplaceAll(s, `\`, `\\`) + "'"
	}
	return "'" + s + "'"
}

// BuildSQL renders a plan.
func BuildSQL(p *Plan) Statement {
	b := &builder{}
	var source, outer string
	qual := ""
	switch p.Action {
	case ActionRead:
		qual = b.qualified(p.Table)
		source = b.nodeSelect(p.Read, qual, qual, true)
		outer = "SELECT * FROM pgrst_source"
	case ActionCall:
		source = b.callSQL(p)
		if p.Call.Scalar {
			outer = "SELECT * FROM pgrst_source" + b.limitOffset(p.Read)
		} else {
			qual = ident(p.Call.Fn.Name)
			outer = b.nodeSelect(p.Read, qual, `"pgrst_source" AS `+qual, true)
		}
	default:
		source = b.mutationSQL(p)
		qual = ident(p.Table.Name)
		if p.Return == "representation" {
			rep := *p.Read
			rep.Where = nil // the mutation already applied the root filters
			rep.Limit, rep.Offset = nil, 0
			outer = b.nodeSelect(&rep, qual, `"pgrst_source" AS `+qual, true)
		} else {
			outer = "SELECT * FROM pgrst_source"
		}
	}

	var sql strings.Builder
	sql.WriteString("WITH pgrst_source AS (")
	sql.WriteString(source)
	sql.WriteString(")")
	total := "NULL::bigint"
	st := Statement{}
	if p.Prefs.Count != "" && (p.Action == ActionRead || p.Action == ActionCall) {
		limited := p.Read.Limit != nil || p.Read.Offset > 0
		// count=estimated is exact up to max-rows; beyond it the planner's
		// estimate may raise it (see EstimatedCount).
		estimatedCap := p.Prefs.Count == "estimated" && p.MaxRows > 0
		if p.Prefs.Count == "exact" || p.Prefs.Count == "estimated" {
			if limited {
				sql.WriteString(", pgrst_source_count AS (")
				sql.WriteString(b.countSelect(p, true))
				if estimatedCap {
					sql.WriteString(" LIMIT " + b.arg(strconv.FormatInt(p.MaxRows+1, 10)))
				}
				sql.WriteString(")")
				total = "(SELECT pg_catalog.count(*) FROM pgrst_source_count)"
			} else {
				total = "pg_catalog.count(_postgrest_t)"
			}
		}
		if estimatedCap || p.Prefs.Count == "planned" {
			cb := &builder{}
			st.CountSQL = "EXPLAIN (FORMAT JSON) " + cb.countSelect(p, false)
			st.CountArgs = cb.args
		}
	} else if p.Prefs.Count != "" {
		total = "pg_catalog.count(_postgrest_t)"
	}
	sql.WriteString(" SELECT ")
	sql.WriteString(total)
	sql.WriteString(" AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, ")
	sql.WriteString(bodyExpr(p))
	sql.WriteString(" AS body, nullif(current_setting('response.headers', true), '') AS response_headers,")
	sql.WriteString(" nullif(current_setting('response.status', true), '') AS response_status, ")
	if p.Mutation != nil && p.Mutation.Resolution != "" {
		sql.WriteString("nullif(current_setting('pgrst.inserted', true), '')::int AS response_inserted, ")
	} else {
		sql.WriteString("NULL::int AS response_inserted, ")
	}
	if p.Mutation != nil && p.Return == "headers-only" && len(p.Table.PK) > 0 && p.Action != ActionUpdate && p.Action != ActionDelete {
		var pairs []string
		for _, k := range p.Table.PK {
			pairs = append(pairs, literal(k)+", pgrst_loc."+ident(k))
		}
		sql.WriteString("(SELECT json_build_object(" + strings.Join(pairs, ", ") + ") FROM pgrst_source AS pgrst_loc LIMIT 1) AS location")
	} else {
		sql.WriteString("NULL::json AS location")
	}
	sql.WriteString(" FROM (")
	sql.WriteString(outer)
	sql.WriteString(") _postgrest_t")
	st.SQL, st.Args = sql.String(), b.args
	return st
}

func bodyExpr(p *Plan) string {
	if p.Head {
		return "''::text"
	}
	if p.Mutation != nil && p.Return != "representation" {
		return "''::text"
	}
	if p.Action == ActionCall && p.Call.Fn.RetVoid {
		return "''::text"
	}
	agg := "json_agg(_postgrest_t)"
	if p.Action == ActionCall && p.Call.Scalar {
		agg = "json_agg(_postgrest_t.pgrst_scalar)"
	}
	single := p.Media.Singular() || (p.Action == ActionCall && !p.Call.Fn.RetSet)
	switch {
	case p.Media == MediaCSV:
		return "(SELECT coalesce((SELECT string_agg(pgrst_k.k, ',') FROM (SELECT json_object_keys(pgrst_r.r) AS k" +
			" FROM (SELECT row_to_json(pgrst_h) AS r FROM (" + "SELECT * FROM pgrst_source" + ") pgrst_h LIMIT 1) pgrst_r) pgrst_k), ''))" +
			" || chr(10) || coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), chr(10)), '')"
	case single && p.Media == MediaSingularStripped:
		return "coalesce(json_strip_nulls(" + agg + "->0), 'null')"
	case single:
		return "coalesce(" + agg + "->0, 'null')"
	case p.Media == MediaArrayStripped:
		return "coalesce(json_strip_nulls(" + agg + "), '[]')"
	}
	return "coalesce(" + agg + ", '[]')"
}

// nodeSelect renders SELECT items FROM from joins WHERE ... ORDER BY ...
// LIMIT ... for a node whose columns are referenced through qual.
func (b *builder) nodeSelect(n *ReadNode, qual, from string, withLimit bool) string {
	items, joins := b.itemsAndJoins(n, qual)
	groupBy := b.groupBy
	var s strings.Builder
	s.WriteString(selectList(items))
	s.WriteString(" FROM ")
	s.WriteString(from)
	s.WriteString(joins)
	if w := b.where(n.Where, qual); w != "" {
		s.WriteString(" WHERE ")
		s.WriteString(w)
	}
	if len(groupBy) > 0 {
		s.WriteString(" GROUP BY " + strings.Join(groupBy, ", "))
	}
	s.WriteString(b.orderBy(n, qual))
	if withLimit {
		s.WriteString(b.limitOffset(n))
	}
	return s.String()
}

// selectList is SELECT items; with no items it selects zero columns (a
// hidden embed, a count), which PostgreSQL allows: json_agg of such rows is
// [{}] and a row of them is distinct from NULL.
func selectList(items string) string {
	if items == "" {
		return "SELECT"
	}
	return "SELECT " + items
}

func (b *builder) limitOffset(n *ReadNode) string {
	var s string
	if n.Limit != nil {
		s += " LIMIT " + b.arg(strconv.FormatInt(*n.Limit, 10))
	}
	if n.Offset > 0 {
		s += " OFFSET " + b.arg(strconv.FormatInt(n.Offset, 10))
	}
	return s
}

// embedAliases are the SQL names of an embed: its lateral subquery and the
// child table inside it.
type embedAliases struct{ lateral, child string }

func (b *builder) itemsAndJoins(n *ReadNode, qual string) (string, string) {
	grouped := n.hasAggregates()
	var groupBy []string
	aliases := map[*EmbedNode]embedAliases{}
	var joins strings.Builder
	for _, e := range n.Embeds {
		a := embedAliases{lateral: b.next("pgrst_l"), child: b.next("pgrst_t")}
		aliases[e] = a
		joins.WriteString(b.lateral(e, qual, a))
	}
	var items []string
	for _, it := range n.Items {
		switch {
		case it.Star:
			items = append(items, qual+".*")
			if grouped {
				// The primary key determines the other columns.
				for _, k := range n.Rel.PK {
					groupBy = append(groupBy, qual+"."+ident(k))
				}
			}
		case it.Embed != nil:
			e, a := it.Embed, aliases[it.Embed]
			switch {
			case e.Spread:
				for _, k := range outputKeys(e.Node) {
					expr := a.lateral + "." + ident(k)
					if !e.Rel.ToOne() {
						expr = "COALESCE(" + expr + jsonbIf(grouped) + ", '[]')"
					}
					if grouped {
						groupBy = append(groupBy, expr)
					}
					items = append(items, expr+" AS "+ident(k))
				}
			case e.Rel.ToOne():
				items = append(items, "row_to_json("+a.lateral+".*)"+jsonbIf(grouped)+" AS "+ident(e.Key))
			default:
				items = append(items, "COALESCE("+a.lateral+"."+a.lateral+jsonbIf(grouped)+", '[]') AS "+ident(e.Key))
			}
		case it.Aggregate != "":
			expr := "count(*)"
			if it.Column != nil {
				expr = b.fieldExpr(qual, it.Column, it.Field, false)
				if it.InnerCast != "" {
					expr = "CAST(" + expr + " AS " + it.InnerCast + ")"
				}
				expr = it.Aggregate + "(" + expr + ")"
			}
			if it.Cast != "" {
				expr = "CAST(" + expr + " AS " + it.Cast + ")"
			}
			items = append(items, expr+" AS "+ident(it.Key))
		default:
			expr := b.fieldExpr(qual, it.Column, it.Field, false)
			if it.Cast != "" {
				expr = "CAST(" + expr + " AS " + it.Cast + ")"
			}
			if grouped {
				groupBy = append(groupBy, expr)
			}
			if it.Key != it.Column.Name || len(it.Field.Path) > 0 || it.Cast != "" {
				expr += " AS " + ident(it.Key)
			}
			items = append(items, expr)
		}
	}
	if grouped {
		// Embedded values are grouped as jsonb (json has no equality).
		for _, it := range n.Items {
			if it.Embed != nil && !it.Embed.Spread {
				a := aliases[it.Embed]
				if it.Embed.Rel.ToOne() {
					groupBy = append(groupBy, "row_to_json("+a.lateral+".*)::jsonb")
				} else {
					groupBy = append(groupBy, "COALESCE("+a.lateral+"."+a.lateral+"::jsonb, '[]')")
				}
			}
		}
	}
	b.groupBy = groupBy
	b.remember(aliases)
	return strings.Join(items, ", "), joins.String()
}

func (b *builder) remember(m map[*EmbedNode]embedAliases) {
	if b.laterals == nil {
		b.laterals = map[*EmbedNode]embedAliases{}
	}
	for k, v := range m {
		b.laterals[k] = v
	}
}

func jsonbIf(b bool) string {
	if b {
		return "::jsonb"
	}
	return ""
}

// outputKeys lists the keys a node outputs (for spreads).
func outputKeys(n *ReadNode) []string {
	var keys []string
	for _, it := range n.Items {
		switch {
		case it.Star:
			for _, c := range n.Rel.Columns {
				keys = append(keys, c.Name)
			}
		case it.Embed != nil && it.Embed.Spread:
			keys = append(keys, outputKeys(it.Embed.Node)...)
		default:
			keys = append(keys, it.Key)
		}
	}
	return keys
}

// lateral renders the LATERAL join of one embed.
func (b *builder) lateral(e *EmbedNode, parentQual string, a embedAliases) string {
	r := e.Rel
	var conds []string
	from := r.To.QualifiedName() + " AS " + a.child
	if r.Computed != nil {
		from = ident(r.Computed.Schema, r.Computed.Name) + "(" + b.rowRef(parentQual) + ") AS " + a.child
		if r.Computed.RetSet {
			conds = append(conds, "TRUE")
		} else {
			// A function returning one row returns a row of nulls for "none".
			conds = append(conds, "NOT ("+a.child+" IS NULL)")
		}
	} else if r.Cardinality == ManyToMany {
		j := b.next("pgrst_j")
		from += ", " + r.Junction.QualifiedName() + " AS " + j
		for i := range r.JToCols {
			conds = append(conds, j+"."+ident(r.JToCols[i])+" = "+a.child+"."+ident(r.ToCols[i]))
		}
		for i := range r.JFromCols {
			conds = append(conds, j+"."+ident(r.JFromCols[i])+" = "+parentQual+"."+ident(r.FromCols[i]))
		}
	} else {
		for i := range r.ToCols {
			conds = append(conds, a.child+"."+ident(r.ToCols[i])+" = "+parentQual+"."+ident(r.FromCols[i]))
		}
	}
	n := e.Node
	items, joins := b.itemsAndJoins(n, a.child)
	groupBy := b.groupBy
	var sub strings.Builder
	sub.WriteString(selectList(items))
	sub.WriteString(" FROM ")
	sub.WriteString(from)
	sub.WriteString(joins)
	sub.WriteString(" WHERE ")
	sub.WriteString(strings.Join(conds, " AND "))
	if w := b.where(n.Where, a.child); w != "" {
		sub.WriteString(" AND ")
		sub.WriteString(w)
	}
	if len(groupBy) > 0 {
		sub.WriteString(" GROUP BY " + strings.Join(groupBy, ", "))
	}
	sub.WriteString(b.orderBy(n, a.child))
	sub.WriteString(b.limitOffset(n))

	join := " LEFT JOIN LATERAL ("
	if e.Inner {
		join = " INNER JOIN LATERAL ("
	}
	if r.ToOne() {
		return join + sub.String() + ") AS " + a.lateral + " ON TRUE"
	}
	var agg string
	if e.Spread {
		var cols []string
		for _, k := range outputKeys(n) {
			cols = append(cols, "json_agg("+a.lateral+"."+ident(k)+") AS "+ident(k))
		}
		if len(cols) == 0 {
			cols = append(cols, "json_agg(1) AS pgrst_exists")
		}
		agg = strings.Join(cols, ", ")
	} else {
		agg = "json_agg(" + a.lateral + ") AS " + a.lateral
	}
	on := "TRUE"
	if e.Inner {
		on = a.lateral + " IS NOT NULL"
	}
	return join + "SELECT " + agg + " FROM (" + sub.String() + ") AS " + a.lateral + ") AS " + a.lateral + " ON " + on
}

// fieldExpr renders a column with its JSON path. asJSONB makes a final ->
// step comparable as jsonb (filters).
func (b *builder) fieldExpr(qual string, col *Column, f Field, asJSONB bool) string {
	expr := qual + "." + ident(col.Name)
	if col.Computed != nil {
		expr = ident(col.Computed.Schema, col.Computed.Name) + "(" + b.rowRef(qual) + ")"
	}
	if len(f.Path) == 0 {
		return expr
	}
	if col.BaseType != "json" && col.BaseType != "jsonb" {
		expr = "to_jsonb(" + expr + ")"
	}
	for _, step := range f.Path {
		op := "->"
		if step.Text {
			op = "->>"
		}
		if step.Index {
			expr += op + b.arg(step.Key) + "::int"
		} else {
			expr += op + b.arg(step.Key) + "::text"
		}
	}
	if asJSONB && !f.Path[len(f.Path)-1].Text && col.BaseType == "json" {
		expr = "(" + expr + ")::jsonb"
	}
	return expr
}

var sqlOps = map[string]string{
	"eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=",
	"like": "LIKE", "ilike": "ILIKE", "match": "~", "imatch": "~*", "isdistinct": "IS DISTINCT FROM",
	"cs": "@>", "cd": "<@", "ov": "&&", "sl": "<<", "sr": ">>", "nxr": "&<", "nxl": "&>", "adj": "-|-",
}

var tsFuncs = map[string]string{"fts": "to_tsquery", "plfts": "plainto_tsquery", "phfts": "phraseto_tsquery", "wfts": "websearch_to_tsquery"}

// where renders ANDed conditions.
func (b *builder) where(conds []*Cond, qual string) string {
	var parts []string
	for _, c := range conds {
		parts = append(parts, b.cond(c, qual))
	}
	return strings.Join(parts, " AND ")
}

func (b *builder) cond(c *Cond, qual string) string {
	switch {
	case c.IsGroup:
		var parts []string
		for _, ch := range c.Childs {
			parts = append(parts, b.cond(ch, qual))
		}
		sep := " AND "
		if c.Or {
			sep = " OR "
		}
		s := "(" + strings.Join(parts, sep) + ")"
		if c.Negate {
			s = "NOT " + s
		}
		return s
	case c.Embed != nil:
		a := b.laterals[c.Embed]
		ref := a.lateral
		if !c.Embed.Rel.ToOne() && !c.Embed.Spread {
			ref = a.lateral + "." + a.lateral
		}
		if c.IsNull {
			return ref + " IS NOT DISTINCT FROM NULL"
		}
		return ref + " IS DISTINCT FROM NULL"
	}
	f := c.Filter
	lhs := b.fieldExpr(qual, c.Column, f.Field, true)
	var s string
	switch {
	case f.Op == "is":
		s = lhs + " IS " + map[string]string{"null": "NULL", "not_null": "NOT NULL", "true": "TRUE", "false": "FALSE", "unknown": "UNKNOWN"}[f.Value]
	case f.Op == "in":
		s = lhs + " = ANY (" + b.arg(pgArray(f.List)) + ")"
	case tsFuncs[f.Op] != "":
		query := tsFuncs[f.Op]
		var q, vec string
		if f.Lang != "" {
			lang := b.arg(f.Lang) + "::regconfig"
			q = query + "(" + lang + ", " + b.arg(f.Value) + ")"
			vec = "to_tsvector(" + lang + ", " + lhs + ")"
		} else {
			q = query + "(" + b.arg(f.Value) + ")"
			vec = "to_tsvector(" + lhs + ")"
		}
		if c.Column.BaseType == "tsvector" && len(f.Field.Path) == 0 {
			vec = lhs
		}
		s = vec + " @@ " + q
	case f.Modifier != "":
		s = lhs + " " + sqlOps[f.Op] + " " + strings.ToUpper(f.Modifier) + "(" + b.arg(f.Value) + ")"
	default:
		s = lhs + " " + sqlOps[f.Op] + " " + b.arg(f.Value)
	}
	if f.Negate {
		s = "NOT " + s
	}
	return s
}

// pgArray renders a PostgreSQL array literal: {"a","b"}.
func pgArray(vals []string) string {
	var s strings.Builder
	s.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteByte('"')
		s.WriteString(strings.ReplaceAll(strings.ReplaceAll(v, `\`, `\\`), `"`, `\"`))
		s.WriteByte('"')
	}
	s.WriteByte('}')
	return s.String()
}

func (b *builder) orderBy(n *ReadNode, qual string) string {
	if len(n.Order) == 0 {
		return ""
	}
	var terms []string
	for _, o := range n.Order {
		q := qual
		if o.Embed != nil {
			q = b.laterals[o.Embed].lateral
		}
		t := b.fieldExpr(q, o.Column, o.Field, false)
		switch o.Dir {
		case "asc":
			t += " ASC"
		case "desc":
			t += " DESC"
		}
		switch o.Nulls {
		case "first":
			t += " NULLS FIRST"
		case "last":
			t += " NULLS LAST"
		}
		terms = append(terms, t)
	}
	return " ORDER BY " + strings.Join(terms, ", ")
}

// countSelect is the root read without output, order and range. For RPC,
// inCTE reads the function's result from pgrst_source, so the function runs
// once per request; the EXPLAIN of a planned count calls it (EXPLAIN does
// not run it).
func (b *builder) countSelect(p *Plan, inCTE bool) string {
	n := *p.Read
	n.Items = nil
	n.Order = nil
	// Keep joins only for embeds that filter the root.
	var keep []*EmbedNode
	for _, e := range n.Embeds {
		if e.Inner || usesEmbed(n.Where, e) {
			keep = append(keep, e)
		}
	}
	n.Embeds = keep
	qual, from := "", ""
	if p.Action == ActionCall {
		source := "pgrst_source"
		if !inCTE {
			source = "(" + b.callSQL(p) + ")"
		}
		if p.Call.Scalar {
			return "SELECT 1 FROM " + source + " pgrst_c"
		}
		qual = ident(p.Call.Fn.Name)
		from = source + " AS " + qual
	} else {
		qual = b.qualified(p.Table)
		from = qual
	}
	return b.nodeSelect(&n, qual, from, false)
}

func usesEmbed(conds []*Cond, e *EmbedNode) bool {
	for _, c := range conds {
		if c.Embed == e || usesEmbed(c.Childs, e) {
			return true
		}
	}
	return false
}

// mutationSQL renders INSERT/UPDATE/DELETE ... RETURNING.
func (b *builder) mutationSQL(p *Plan) string {
	t, m := p.Table, p.Mutation
	qn := b.qualified(t)
	returning := " RETURNING 1"
	if p.Return == "representation" || p.Return == "headers-only" {
		returning = " RETURNING " + qn + ".*"
	}
	var s strings.Builder
	switch p.Action {
	case ActionInsert, ActionPut:
		var cols, sel []string
		for _, c := range m.Columns {
			cols = append(cols, ident(c.Name))
			sel = append(sel, "pgrst_body."+ident(c.Name))
		}
		s.WriteString("INSERT INTO ")
		s.WriteString(qn)
		if len(cols) > 0 {
			s.WriteString("(" + strings.Join(cols, ", ") + ")")
		}
		s.WriteString(" SELECT ")
		s.WriteString(strings.Join(sel, ", "))
		body := b.arg(string(m.Body))
		var defs []string
		if m.MissingDefault {
			for _, c := range m.Columns {
				if c.Default != "" {
					defs = append(defs, literal(c.Name)+", "+c.Default)
				}
			}
		}
		if len(defs) > 0 {
			s.WriteString(" FROM jsonb_populate_recordset(NULL::" + qn + ", (SELECT jsonb_agg(jsonb_build_object(" +
				strings.Join(defs, ", ") + ") || pgrst_e) FROM jsonb_array_elements(" + body + "::jsonb) pgrst_e)) AS pgrst_body")
		} else {
			s.WriteString(" FROM json_populate_recordset(NULL::" + qn + ", " + body + "::json) AS pgrst_body")
		}
		var where []string
		if m.Resolution != "" {
			where = append(where, "set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) + 1)::text, true) <> '0'")
		}
		for i, k := range m.PKValues {
			where = append(where, "pgrst_body."+ident(t.PK[i])+" = "+b.arg(k))
		}
		if len(where) > 0 {
			s.WriteString(" WHERE " + strings.Join(where, " AND "))
		}
		if m.Resolution != "" {
			var conflict []string
			for _, c := range m.OnConflict {
				conflict = append(conflict, ident(c))
			}
			s.WriteString(" ON CONFLICT (" + strings.Join(conflict, ", ") + ")")
			if m.Resolution == "ignore-duplicates" || len(cols) == 0 {
				s.WriteString(" DO NOTHING")
			} else {
				var sets []string
				for _, c := range cols {
					sets = append(sets, c+" = EXCLUDED."+c)
				}
				s.WriteString(" DO UPDATE SET " + strings.Join(sets, ", "))
				s.WriteString(" WHERE set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) - 1)::text, true) <> '-1'")
			}
		}
		s.WriteString(returning)
	case ActionUpdate:
		if len(m.Columns) == 0 {
			return "SELECT " + qn + ".* FROM " + qn + " WHERE false"
		}
		var sets []string
		for _, c := range m.Columns {
			sets = append(sets, ident(c.Name)+" = pgrst_body."+ident(c.Name))
		}
		s.WriteString("UPDATE " + qn + " SET " + strings.Join(sets, ", "))
		s.WriteString(" FROM json_populate_record(NULL::" + qn + ", " + b.arg(string(m.Body)) + "::json) AS pgrst_body")
		if w := b.where(p.Where, qn); w != "" {
			s.WriteString(" WHERE " + w)
		}
		s.WriteString(returning)
	case ActionDelete:
		s.WriteString("DELETE FROM " + qn)
		if w := b.where(p.Where, qn); w != "" {
			s.WriteString(" WHERE " + w)
		}
		s.WriteString(returning)
	}
	return s.String()
}

// callSQL renders the function call.
func (b *builder) callSQL(p *Plan) string {
	c := p.Call
	f := c.Fn
	fn := ident(f.Schema, f.Name)
	var args []string
	from := ""
	switch {
	case c.SingleUnnamed:
		args = append(args, b.arg(string(c.JSON))+"::"+f.Args[0].Type)
	case c.JSON != nil && len(c.Args) > 0:
		var defs []string
		for _, a := range c.Args {
			defs = append(defs, ident(a.Name)+" "+a.Type)
			arg := ident(a.Name) + " := pgrst_body." + ident(a.Name)
			if a.Variadic {
				arg = "VARIADIC " + arg
			}
			args = append(args, arg)
		}
		from = "json_to_record(" + b.arg(string(c.JSON)) + "::json) AS pgrst_body(" + strings.Join(defs, ", ") + ")"
	default:
		for _, a := range c.Args {
			vals := c.GETArgs[a.Name]
			v := vals[len(vals)-1]
			if a.Variadic {
				if len(vals) > 1 || !strings.HasPrefix(v, "{") {
					v = pgArray(vals)
				}
			}
			arg := ident(a.Name) + " := " + b.arg(v) + "::" + a.Type
			if a.Variadic {
				arg = "VARIADIC " + arg
			}
			args = append(args, arg)
		}
	}
	call := fn + "(" + strings.Join(args, ", ") + ")"
	switch {
	case c.Scalar && !f.RetSet:
		s := "SELECT " + call + " AS pgrst_scalar"
		if from != "" {
			s += " FROM " + from
		}
		return s
	case c.Scalar:
		if from != "" {
			return "SELECT pgrst_call.pgrst_scalar FROM " + from + ", LATERAL " + call + " AS pgrst_call(pgrst_scalar)"
		}
		return "SELECT pgrst_call.pgrst_scalar FROM " + call + " AS pgrst_call(pgrst_scalar)"
	default:
		if from != "" {
			return "SELECT pgrst_call.* FROM " + from + ", LATERAL " + call + " AS pgrst_call"
		}
		return "SELECT pgrst_call.* FROM " + call + " AS pgrst_call"
	}
}
