// Package typegen renders a schema description (GET /api/schema) as the
// TypeScript file Supabase's type generator emits, so
// createClient<Database>() from supabase-js types queries, inserts and RPC
// calls the same way against pgStack; and it implements
// `pgstack gen types typescript`.
package typegen

import (
	"slices"
	"strings"

	"github.com/pgstack/pgstack/gen/api/admin"
)

// PostgrestVersion is the PostgREST version pgStack's REST API follows;
// supabase-js reads it from the generated types to enable what later
// versions add (such as maxAffected) only for servers that have it.
const PostgrestVersion = "12"

// DefaultSchema is the schema the helper types (Tables<"name">, ...) use
// when none is named.
const DefaultSchema = "public"

// TypeScript renders the schemas as a TypeScript module.
func TypeScript(db admin.DatabaseSchema) string {
	g := &generator{described: map[string]admin.SchemaInfo{}}
	schemas := append([]admin.SchemaInfo(nil), db.Schemas...)
	sortBy(schemas, func(s admin.SchemaInfo) string { return s.Name })
	for _, s := range schemas {
		g.described[s.Name] = s
	}

	root := object{expand: true, props: []prop{{
		key: "__InternalSupabase",
		comment: []string{
			"Tells createClient<Database>() which PostgREST version the server follows",
			"(instead of createClient<Database, { PostgrestVersion: 'XX' }>(URL, KEY))",
		},
		typ: object{expand: true, props: []prop{{key: "PostgrestVersion", typ: raw(quote(PostgrestVersion))}}},
	}}}
	for _, s := range schemas {
		root.props = append(root.props, prop{key: s.Name, typ: g.schema(s)})
	}

	var b strings.Builder
	b.WriteString(jsonType)
	b.WriteString("\nexport type Database = " + render(root, 0, len("export type Database = ")) + "\n")
	b.WriteString("\n" + strings.ReplaceAll(helperTypes, "DEFAULT_SCHEMA", quote(DefaultSchema)))
	b.WriteString("\n" + constants(schemas))
	return b.String()
}

const jsonType = `export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]
`

var never = prop{literal: "[_ in never]: never"}

type generator struct {
	described map[string]admin.SchemaInfo
	// computed are the computed fields of the schema being rendered: by
	// relation name, a Row member per function taking that relation's row.
	computed map[string][]prop
}

func section(props []prop) object {
	if len(props) == 0 {
		props = []prop{never}
	}
	return object{expand: true, props: props}
}

func (g *generator) schema(s admin.SchemaInfo) object {
	tables := append([]admin.RelationInfo(nil), s.Tables...)
	views := append([]admin.RelationInfo(nil), s.Views...)
	enums := append([]admin.EnumInfo(nil), s.Enums...)
	composites := append([]admin.CompositeTypeInfo(nil), s.CompositeTypes...)
	sortBy(tables, func(r admin.RelationInfo) string { return r.Name })
	sortBy(views, func(r admin.RelationInfo) string { return r.Name })
	sortBy(enums, func(e admin.EnumInfo) string { return e.Name })
	sortBy(composites, func(c admin.CompositeTypeInfo) string { return c.Name })

	g.computed = g.computedFields(s)
	var tp, vp, ep, cp []prop
	for _, t := range tables {
		tp = append(tp, prop{key: t.Name, typ: g.table(s, t)})
	}
	for _, v := range views {
		vp = append(vp, prop{key: v.Name, typ: g.view(s, v)})
	}
	for _, e := range enums {
		ep = append(ep, prop{key: e.Name, typ: literals(e.Values)})
	}
	for _, c := range composites {
		attrs := object{expand: true}
		for _, a := range c.Attributes {
			attrs.props = append(attrs.props, prop{key: a.Name, typ: nullable(g.tsType(a.Type))})
		}
		cp = append(cp, prop{key: c.Name, typ: attrs})
	}
	return object{expand: true, props: []prop{
		{key: "Tables", typ: section(tp)},
		{key: "Views", typ: section(vp)},
		{key: "Functions", typ: section(g.functions(s))},
		{key: "Enums", typ: section(ep)},
		{key: "CompositeTypes", typ: section(cp)},
	}}
}

func literals(values []string) node {
	if len(values) == 0 {
		return raw("never")
	}
	u := make(union, len(values))
	for i, v := range values {
		u[i] = raw(quote(v))
	}
	if len(u) == 1 {
		return u[0]
	}
	return u
}

func nullable(n node) node {
	if u, ok := n.(union); ok {
		return append(append(union(nil), u...), raw("null"))
	}
	return union{n, raw("null")}
}

// sortedColumns orders columns by name, as Supabase's generator does.
func sortedColumns(r admin.RelationInfo) []admin.ColumnInfo {
	cols := append([]admin.ColumnInfo(nil), r.Columns...)
	sortBy(cols, func(c admin.ColumnInfo) string { return c.Name })
	return cols
}

// row is the shape of a relation's rows.
func (g *generator) row(r admin.RelationInfo) object {
	o := object{expand: true}
	for _, c := range sortedColumns(r) {
		t := g.tsType(c.Type)
		if c.Nullable {
			t = nullable(t)
		}
		o.props = append(o.props, prop{key: c.Name, typ: t})
	}
	return o
}

// readOnly reports columns a client may never write: identity columns
// GENERATED ALWAYS and generated (stored) columns.
func readOnly(c admin.ColumnInfo) bool {
	return c.Generated || (c.Identity != nil && *c.Identity == admin.Always)
}

// computedFields finds the functions that take one row of a relation of s
// and return one scalar: PostgREST serves them as columns of that relation
// (computed fields), selectable by name but left out of select=*.
func (g *generator) computedFields(s admin.SchemaInfo) map[string][]prop {
	out := map[string][]prop{}
	seen := map[string]bool{}
	for _, f := range s.Functions {
		var in []admin.FunctionArg
		for _, a := range f.Args {
			if a.Mode == admin.FunctionArgModeIn || a.Mode == admin.FunctionArgModeInout || a.Mode == admin.FunctionArgModeVariadic {
				in = append(in, a)
			}
		}
		if len(in) != 1 || in[0].Type.Array || in[0].Type.Schema != s.Name ||
			(in[0].Type.Kind != admin.TypeRefKindTable && in[0].Type.Kind != admin.TypeRefKindView) {
			continue
		}
		ret := f.ReturnType
		if f.ReturnsSet || ret.Kind == admin.TypeRefKindTable || ret.Kind == admin.TypeRefKindView ||
			ret.Kind == admin.TypeRefKindPseudo || seen[in[0].Type.Name+"\x00"+f.Name] {
			continue
		}
		seen[in[0].Type.Name+"\x00"+f.Name] = true
		out[in[0].Type.Name] = append(out[in[0].Type.Name], prop{key: f.Name, typ: nullable(g.tsType(ret))})
	}
	for _, props := range out {
		sortBy(props, func(p prop) string { return p.key })
	}
	return out
}

// rowWithComputed is a table's or view's Row: its columns, then its computed
// fields.
func (g *generator) rowWithComputed(r admin.RelationInfo) object {
	o := g.row(r)
	for _, p := range g.computed[r.Name] {
		if !slices.ContainsFunc(r.Columns, func(c admin.ColumnInfo) bool { return c.Name == p.key }) {
			o.props = append(o.props, p)
		}
	}
	return o
}

func (g *generator) table(s admin.SchemaInfo, t admin.RelationInfo) object {
	insert, update := object{expand: true}, object{expand: true}
	for _, c := range sortedColumns(t) {
		if readOnly(c) {
			insert.props = append(insert.props, prop{key: c.Name, optional: true, typ: raw("never")})
			update.props = append(update.props, prop{key: c.Name, optional: true, typ: raw("never")})
			continue
		}
		typ := g.tsType(c.Type)
		if c.Nullable {
			typ = nullable(typ)
		}
		optional := c.Nullable || c.Identity != nil || c.Default != nil
		insert.props = append(insert.props, prop{key: c.Name, optional: optional, typ: typ})
		update.props = append(update.props, prop{key: c.Name, optional: true, typ: typ})
	}
	return object{expand: true, props: []prop{
		{key: "Row", typ: g.rowWithComputed(t)},
		{key: "Insert", typ: insert},
		{key: "Update", typ: update},
		{key: "Relationships", typ: relationships(s, t)},
	}}
}

func (g *generator) view(s admin.SchemaInfo, v admin.RelationInfo) object {
	out := object{expand: true, props: []prop{{key: "Row", typ: g.rowWithComputed(v)}}}
	if v.Updatable || v.Insertable {
		write := object{expand: true}
		for _, c := range sortedColumns(v) {
			if !c.Updatable {
				write.props = append(write.props, prop{key: c.Name, optional: true, typ: raw("never")})
				continue
			}
			write.props = append(write.props, prop{key: c.Name, optional: true, typ: nullable(g.tsType(c.Type))})
		}
		out.props = append(out.props, prop{key: "Insert", typ: write}, prop{key: "Update", typ: write})
	}
	out.props = append(out.props, prop{key: "Relationships", typ: relationships(s, v)})
	return out
}

// relationships lists the foreign keys of r that reference relations of the
// same schema (supabase-js resolves embeds within one schema).
func relationships(s admin.SchemaInfo, r admin.RelationInfo) tuple {
	rels := append([]admin.RelationshipInfo(nil), r.Relationships...)
	sortBy(rels, func(x admin.RelationshipInfo) string {
		return x.ForeignKeyName + "\x00" + x.ReferencedRelation + "\x00" + strings.Join(x.ReferencedColumns, ",")
	})
	out := tuple{}
	for _, x := range rels {
		if x.ReferencedSchema != s.Name {
			continue
		}
		one := "false"
		if x.IsOneToOne {
			one = "true"
		}
		out = append(out, object{expand: true, props: []prop{
			{key: "foreignKeyName", typ: raw(quote(x.ForeignKeyName))},
			{key: "columns", typ: stringTuple(x.Columns)},
			{key: "isOneToOne", typ: raw(one)},
			{key: "referencedRelation", typ: raw(quote(x.ReferencedRelation))},
			{key: "referencedColumns", typ: stringTuple(x.ReferencedColumns)},
		}})
	}
	return out
}

// stringTuple is ["a", "b"], always on one line.
func stringTuple(values []string) raw {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = quote(v)
	}
	return raw("[" + strings.Join(q, ", ") + "]")
}

// relation finds the described table or view whose row type ref is.
func (g *generator) relation(ref admin.TypeRef) (admin.RelationInfo, bool) {
	s, ok := g.described[ref.Schema]
	if !ok {
		return admin.RelationInfo{}, false
	}
	list := s.Tables
	if ref.Kind == admin.TypeRefKindView {
		list = s.Views
	}
	for _, r := range list {
		if r.Name == ref.Name {
			return r, true
		}
	}
	return admin.RelationInfo{}, false
}

func index(schema, section, name string) string {
	return "Database[" + quote(schema) + "][" + quote(section) + "][" + quote(name) + "]"
}

// tsType maps a PostgreSQL type to TypeScript as Supabase's generator does.
func (g *generator) tsType(ref admin.TypeRef) node {
	var t node = raw("unknown")
	_, described := g.described[ref.Schema]
	switch ref.Kind {
	case admin.TypeRefKindBase:
		t = raw(baseTypes[ref.Name])
		if t == raw("") {
			t = raw("unknown")
		}
	case admin.TypeRefKindPseudo:
		switch ref.Name {
		case "void":
			t = raw("undefined")
		case "record":
			t = raw("Record<string, unknown>")
		}
	case admin.TypeRefKindEnum:
		switch {
		case described:
			t = raw(index(ref.Schema, "Enums", ref.Name))
		case ref.Values != nil:
			t = literals(*ref.Values)
		}
	case admin.TypeRefKindComposite:
		if described {
			t = raw(index(ref.Schema, "CompositeTypes", ref.Name))
		}
	case admin.TypeRefKindTable, admin.TypeRefKindView:
		if _, ok := g.relation(ref); ok {
			sec := "Tables"
			if ref.Kind == admin.TypeRefKindView {
				sec = "Views"
			}
			t = raw(index(ref.Schema, sec, ref.Name) + `["Row"]`)
		}
	}
	if ref.Array {
		return arrayOf{t}
	}
	return t
}

var baseTypes = map[string]string{
	"bool": "boolean",
	"int2": "number", "int4": "number", "int8": "number", "float4": "number", "float8": "number", "numeric": "number",
	"bytea": "string", "bpchar": "string", "varchar": "string", "date": "string", "text": "string",
	"citext": "string", "time": "string", "timetz": "string", "timestamp": "string", "timestamptz": "string",
	"uuid": "string", "vector": "string", "interval": "string",
	"json": "Json", "jsonb": "Json",
}

// functions renders the schema's functions: one entry per name, a union of
// { Args; Returns } per overload. As with Supabase, functions with several
// unnamed arguments are left out: they cannot be called with named
// arguments.
func (g *generator) functions(s admin.SchemaInfo) []prop {
	byName := map[string][]string{}
	overloads := map[string][]node{}
	var names []string
	for _, f := range s.Functions {
		var in []admin.FunctionArg
		unnamed := false
		for _, a := range f.Args {
			switch a.Mode {
			case admin.FunctionArgModeIn, admin.FunctionArgModeInout, admin.FunctionArgModeVariadic:
				in = append(in, a)
				unnamed = unnamed || a.Name == ""
			}
		}
		if unnamed && len(in) > 1 {
			continue
		}
		if _, seen := overloads[f.Name]; !seen {
			names = append(names, f.Name)
		}
		n := g.function(f, in)
		key, _ := flat(withoutExpand(n))
		byName[f.Name] = append(byName[f.Name], key)
		overloads[f.Name] = append(overloads[f.Name], n)
	}
	sortBy(names, func(n string) string { return n })
	var out []prop
	for _, name := range names {
		fns := overloads[name]
		keys := byName[name]
		idx := make([]int, len(fns))
		for i := range idx {
			idx[i] = i
		}
		sortBy(idx, func(i int) string { return keys[i] })
		u := make(union, len(fns))
		for i, j := range idx {
			u[i] = fns[j]
		}
		if len(u) == 1 {
			out = append(out, prop{key: name, typ: u[0]})
		} else {
			out = append(out, prop{key: name, typ: u})
		}
	}
	return out
}

// withoutExpand flattens a node completely, to order overloads by text.
func withoutExpand(n node) node {
	switch n := n.(type) {
	case object:
		o := object{}
		for _, p := range n.props {
			p.typ = withoutExpand(p.typ)
			p.comment = nil
			o.props = append(o.props, p)
		}
		return o
	case arrayOf:
		return arrayOf{withoutExpand(n.elem)}
	case union:
		u := make(union, len(n))
		for i, m := range n {
			u[i] = withoutExpand(m)
		}
		return u
	case tuple:
		return raw("[...]")
	}
	return n
}

func (g *generator) function(f admin.FunctionInfo, in []admin.FunctionArg) object {
	var args node = raw("never")
	if len(in) > 0 {
		o := object{}
		for _, a := range in {
			o.props = append(o.props, prop{key: a.Name, optional: a.HasDefault, typ: g.tsType(a.Type)})
		}
		args = o
	}
	var ret node
	var columns []admin.FunctionArg
	for _, a := range f.Args {
		if a.Mode == admin.FunctionArgModeTable ||
			(f.ReturnType.Name == "record" && (a.Mode == admin.FunctionArgModeOut || a.Mode == admin.FunctionArgModeInout)) {
			columns = append(columns, a)
		}
	}
	var setof *object
	// A set-returning function with ROWS 1 returns one row as PostgREST
	// sees it (a to-one computed relationship).
	one := !f.ReturnsSet || (f.Rows != nil && *f.Rows == 1)
	switch {
	case len(columns) > 0:
		o := object{expand: true}
		for _, a := range columns {
			o.props = append(o.props, prop{key: a.Name, typ: g.tsType(a.Type)})
		}
		ret = o
	case f.ReturnType.Kind == admin.TypeRefKindTable || f.ReturnType.Kind == admin.TypeRefKindView ||
		f.ReturnType.Kind == admin.TypeRefKindComposite:
		ret = g.tsType(f.ReturnType)
		if r, ok := g.relation(f.ReturnType); ok && !f.ReturnType.Array {
			ret = g.row(r)
		}
		if _, ok := g.described[f.ReturnType.Schema]; ok && !f.ReturnType.Array {
			from := "*"
			if len(in) == 1 && (in[0].Type.Kind == admin.TypeRefKindTable || in[0].Type.Kind == admin.TypeRefKindView) && !in[0].Type.Array {
				from = in[0].Type.Name
			}
			setof = &object{expand: true, props: []prop{
				{key: "from", typ: raw(quote(from))},
				{key: "to", typ: raw(quote(f.ReturnType.Name))},
				{key: "isOneToOne", typ: raw(boolText(one))},
				{key: "isSetofReturn", typ: raw(boolText(f.ReturnsSet))},
			}}
		}
	default:
		ret = g.tsType(f.ReturnType)
	}
	if f.ReturnsSet && (setof == nil || !one) {
		ret = arrayOf{ret}
	}
	o := object{props: []prop{{key: "Args", typ: args}, {key: "Returns", typ: ret}}}
	if setof != nil {
		o.props = append(o.props, prop{key: "SetofOptions", typ: *setof})
	}
	return o
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// constants renders the runtime Constants object (enum values).
func constants(schemas []admin.SchemaInfo) string {
	var b strings.Builder
	b.WriteString("export const Constants = {\n")
	for _, s := range schemas {
		key := s.Name
		if !identifier.MatchString(key) {
			key = quote(key)
		}
		b.WriteString("  " + key + ": {\n")
		enums := append([]admin.EnumInfo(nil), s.Enums...)
		sortBy(enums, func(e admin.EnumInfo) string { return e.Name })
		if len(enums) == 0 {
			b.WriteString("    Enums: {},\n")
		} else {
			b.WriteString("    Enums: {\n")
			for _, e := range enums {
				name := e.Name
				if !identifier.MatchString(name) {
					name = quote(name)
				}
				vals := make([]string, len(e.Values))
				for i, v := range e.Values {
					vals[i] = quote(v)
				}
				line := "      " + name + ": [" + strings.Join(vals, ", ") + "],"
				if len(line) <= printWidth {
					b.WriteString(line + "\n")
					continue
				}
				b.WriteString("      " + name + ": [\n")
				for _, v := range vals {
					b.WriteString("        " + v + ",\n")
				}
				b.WriteString("      ],\n")
			}
			b.WriteString("    },\n")
		}
		b.WriteString("  },\n")
	}
	b.WriteString("} as const\n")
	return b.String()
}
