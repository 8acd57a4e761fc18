// Package dbschema describes database schemas the way clients see them, for
// GET /api/schema and the type generators built on it: tables and views with
// their columns, keys, relationships, row-level security and policies;
// functions with their signatures; enums and composite types.
//
// Tables, views, relationships and functions come from the REST schema cache
// (postgrest.LoadCache), so the description matches what /rest/v1 serves;
// the catalog queries in queries/catalog.sql add types, identity columns,
// security and policies.
package dbschema

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/gen/db"
	"github.com/pgstack/pgstack/postgrest"
)

// MaxSchemas is the most schemas one request may describe.
const MaxSchemas = 16

// InvalidSchemasError says why the requested schema list was refused.
type InvalidSchemasError struct{ Reason string }

func (e *InvalidSchemasError) Error() string { return e.Reason }

// Service describes schemas through the owner pool.
type Service struct {
	pool     *pgxpool.Pool
	queries  *db.Queries
	defaults []string
}

// New returns a Service; defaults are the schemas described when a request
// names none (REST_SCHEMAS).
func New(pool *pgxpool.Pool, queries *db.Queries, defaults []string) *Service {
	return &Service{pool: pool, queries: queries, defaults: defaults}
}

// ParseSchemas splits a comma-separated list and checks it: at most
// MaxSchemas names, none of PostgreSQL's own schemas (pg_*,
// information_schema) nor the platform's pgstack schema. An empty list means
// the defaults.
func (s *Service) ParseSchemas(list string) ([]string, error) {
	if strings.TrimSpace(list) == "" {
		return slices.Clone(s.defaults), nil
	}
	var out []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			return nil, &InvalidSchemasError{"schemas: empty schema name"}
		case len(name) > 63:
			return nil, &InvalidSchemasError{"schemas: a schema name has at most 63 bytes"}
		case strings.HasPrefix(name, "pg_") || name == "information_schema" || name == "pgstack":
			return nil, &InvalidSchemasError{fmt.Sprintf("schemas: %q is an internal schema", name)}
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	if len(out) > MaxSchemas {
		return nil, &InvalidSchemasError{fmt.Sprintf("schemas: at most %d schemas", MaxSchemas)}
	}
	return out, nil
}

// Describe describes the named schemas, sorted by name. A schema that does
// not exist is an *InvalidSchemasError.
func (s *Service) Describe(ctx context.Context, schemas []string) (admin.DatabaseSchema, error) {
	existing, err := s.queries.ListExistingSchemas(ctx, schemas)
	if err != nil {
		return admin.DatabaseSchema{}, fmt.Errorf("list schemas: %w", err)
	}
	for _, name := range schemas {
		if !slices.Contains(existing, name) {
			return admin.DatabaseSchema{}, &InvalidSchemasError{fmt.Sprintf("schemas: schema %q does not exist", name)}
		}
	}
	cat, err := s.load(ctx, existing)
	if err != nil {
		return admin.DatabaseSchema{}, err
	}
	out := admin.DatabaseSchema{Schemas: []admin.SchemaInfo{}}
	for _, name := range existing {
		out.Schemas = append(out.Schemas, cat.schema(name))
	}
	return out, nil
}

// catalog is what one Describe read.
type catalog struct {
	described  map[string]bool
	cache      *postgrest.Cache
	types      map[uint32]db.ListTypesRow
	columns    map[string]db.ListColumnDetailsRow // schema \0 relation \0 column
	security   map[string]db.ListRelationSecurityRow
	policies   map[string][]db.ListPoliciesRow
	functions  map[string]db.ListFunctionSignaturesRow // schema \0 name \0 input types
	enums      []db.ListEnumsRow
	enumLabels map[string][]string // schema \0 name -> labels
	composite  []db.ListCompositeAttributesRow
}

func key(parts ...string) string { return strings.Join(parts, "\x00") }

func (s *Service) load(ctx context.Context, schemas []string) (*catalog, error) {
	c := &catalog{described: map[string]bool{}, types: map[uint32]db.ListTypesRow{},
		columns: map[string]db.ListColumnDetailsRow{}, security: map[string]db.ListRelationSecurityRow{},
		policies: map[string][]db.ListPoliciesRow{}, functions: map[string]db.ListFunctionSignaturesRow{},
		enumLabels: map[string][]string{}}
	for _, name := range schemas {
		c.described[name] = true
	}
	var err error
	if c.cache, err = postgrest.LoadCache(ctx, s.pool, schemas); err != nil {
		return nil, err
	}
	types, err := s.queries.ListTypes(ctx)
	if err != nil {
		return nil, fmt.Errorf("list types: %w", err)
	}
	for _, t := range types {
		c.types[t.Oid.Uint32] = t
	}
	cols, err := s.queries.ListColumnDetails(ctx, schemas)
	if err != nil {
		return nil, fmt.Errorf("list columns: %w", err)
	}
	for _, col := range cols {
		c.columns[key(col.Schema, col.Relation, col.ColumnName)] = col
	}
	sec, err := s.queries.ListRelationSecurity(ctx, schemas)
	if err != nil {
		return nil, fmt.Errorf("list row-level security: %w", err)
	}
	for _, r := range sec {
		c.security[key(r.Schema, r.Relation)] = r
	}
	pols, err := s.queries.ListPolicies(ctx, schemas)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	for _, p := range pols {
		k := key(p.Schema, p.Relation)
		c.policies[k] = append(c.policies[k], p)
	}
	sigs, err := s.queries.ListFunctionSignatures(ctx, schemas)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	for _, f := range sigs {
		c.functions[key(f.Schema, f.Name, strings.Join(f.InputTypes, ","))] = f
	}
	if c.enums, err = s.queries.ListEnums(ctx); err != nil {
		return nil, fmt.Errorf("list enums: %w", err)
	}
	for _, e := range c.enums {
		c.enumLabels[key(e.Schema, e.Name)] = e.Labels
	}
	if c.composite, err = s.queries.ListCompositeAttributes(ctx, schemas); err != nil {
		return nil, fmt.Errorf("list composite types: %w", err)
	}
	return c, nil
}

func (c *catalog) schema(name string) admin.SchemaInfo {
	out := admin.SchemaInfo{Name: name, Tables: []admin.RelationInfo{}, Views: []admin.RelationInfo{},
		Functions: []admin.FunctionInfo{}, Enums: []admin.EnumInfo{}, CompositeTypes: []admin.CompositeTypeInfo{}}
	for _, t := range c.cache.Tables(name) {
		if t.IsView {
			out.Views = append(out.Views, c.relation(t))
		} else {
			out.Tables = append(out.Tables, c.relation(t))
		}
	}
	fns := c.cache.AllFunctions(name)
	sort.SliceStable(fns, func(i, j int) bool {
		if fns[i].Name != fns[j].Name {
			return fns[i].Name < fns[j].Name
		}
		return inputTypes(fns[i]) < inputTypes(fns[j])
	})
	for _, f := range fns {
		if info, ok := c.function(f); ok {
			out.Functions = append(out.Functions, info)
		}
	}
	for _, e := range c.enums {
		if e.Schema == name {
			out.Enums = append(out.Enums, admin.EnumInfo{Name: e.Name, Values: nonNil(e.Labels)})
		}
	}
	sort.Slice(out.Enums, func(i, j int) bool { return out.Enums[i].Name < out.Enums[j].Name })
	for _, a := range c.composite { // ordered by schema, type and attribute number
		if a.Schema != name {
			continue
		}
		if n := len(out.CompositeTypes); n == 0 || out.CompositeTypes[n-1].Name != a.TypeName {
			out.CompositeTypes = append(out.CompositeTypes, admin.CompositeTypeInfo{Name: a.TypeName, Attributes: []admin.CompositeAttribute{}})
		}
		last := &out.CompositeTypes[len(out.CompositeTypes)-1]
		last.Attributes = append(last.Attributes, admin.CompositeAttribute{Name: a.Name, Type: c.typeRef(a.TypeOid.Uint32, "")})
	}
	return out
}

func (c *catalog) relation(t *postgrest.Table) admin.RelationInfo {
	out := admin.RelationInfo{Name: t.Name, Columns: []admin.ColumnInfo{}, PrimaryKey: nonNil(t.PK),
		Relationships: []admin.RelationshipInfo{}, Insertable: t.Insertable, Updatable: t.Updatable,
		Deletable: t.Deletable, Policies: []admin.PolicyInfo{}, Comment: optional(t.Description)}
	for _, col := range t.Columns {
		d := c.columns[key(t.Schema, t.Name, col.Name)]
		info := admin.ColumnInfo{Name: col.Name, Type: c.typeRef(d.TypeOid.Uint32, col.Type), Nullable: col.Nullable,
			Generated: col.Generated, Updatable: d.Updatable, Comment: optional(col.Description)}
		switch d.Identity {
		case "a":
			info.Identity = ptr(admin.Always)
		case "d":
			info.Identity = ptr(admin.ByDefault)
		default:
			info.Default = optional(col.Default)
		}
		out.Columns = append(out.Columns, info)
	}
	for _, r := range t.Rels {
		if r.Computed != nil || r.Cardinality == postgrest.ManyToMany || !r.FKOnFrom() {
			continue
		}
		out.Relationships = append(out.Relationships, admin.RelationshipInfo{ForeignKeyName: r.Constraint,
			Columns: r.FromCols, IsOneToOne: r.Cardinality == postgrest.OneToOne, ReferencedSchema: r.To.Schema,
			ReferencedRelation: r.To.Name, ReferencedColumns: r.ToCols})
	}
	sort.Slice(out.Relationships, func(i, j int) bool {
		a, b := out.Relationships[i], out.Relationships[j]
		return key(a.ForeignKeyName, a.ReferencedRelation, strings.Join(a.ReferencedColumns, ",")) <
			key(b.ForeignKeyName, b.ReferencedRelation, strings.Join(b.ReferencedColumns, ","))
	})
	sec := c.security[key(t.Schema, t.Name)]
	out.RlsEnabled, out.RlsForced = sec.RlsEnabled, sec.RlsForced
	for _, p := range c.policies[key(t.Schema, t.Name)] {
		out.Policies = append(out.Policies, admin.PolicyInfo{Name: p.Name, Command: policyCommands[p.Command],
			Roles: nonNil(p.Roles), Permissive: p.Permissive, Using: optional(p.UsingExpr), WithCheck: optional(p.CheckExpr)})
	}
	return out
}

var policyCommands = map[string]admin.PolicyInfoCommand{
	"*": admin.ALL, "r": admin.SELECT, "a": admin.INSERT, "w": admin.UPDATE, "d": admin.DELETE,
}

var argModes = map[string]admin.FunctionArgMode{
	"i": admin.FunctionArgModeIn, "o": admin.FunctionArgModeOut, "b": admin.FunctionArgModeInout, "v": admin.FunctionArgModeVariadic, "t": admin.FunctionArgModeTable,
}

var volatilities = map[byte]admin.FunctionInfoVolatility{
	'i': admin.Immutable, 's': admin.Stable, 'v': admin.Volatile,
}

func inputTypes(f *postgrest.Function) string {
	types := make([]string, len(f.Args))
	for i, a := range f.Args {
		types[i] = a.Type
	}
	return strings.Join(types, ",")
}

func (c *catalog) function(f *postgrest.Function) (admin.FunctionInfo, bool) {
	sig, ok := c.functions[key(f.Schema, f.Name, inputTypes(f))]
	if !ok {
		return admin.FunctionInfo{}, false // dropped between the two reads
	}
	out := admin.FunctionInfo{Name: f.Name, Args: []admin.FunctionArg{}, ReturnsSet: f.RetSet,
		ReturnType: c.typeRef(sig.ReturnType.Uint32, ""), Volatility: volatilities[f.Volatility],
		Comment: optional(f.Description)}
	if f.RetSet {
		out.Rows = &f.Rows
	}
	in := 0
	for i, oid := range sig.ArgTypes {
		mode := "i"
		if i < len(sig.ArgModes) {
			mode = sig.ArgModes[i]
		}
		a := admin.FunctionArg{Type: c.typeRef(oid.Uint32, ""), Mode: argModes[mode]}
		if i < len(sig.ArgNames) {
			a.Name = sig.ArgNames[i]
		}
		if mode == "i" || mode == "b" || mode == "v" {
			if in < len(f.Args) {
				a.HasDefault = f.Args[in].HasDefault
			}
			in++
		}
		out.Args = append(out.Args, a)
	}
	return out, true
}

// typeRef describes a type by oid; format, when given, is the column's
// format_type with its modifier.
func (c *catalog) typeRef(oid uint32, format string) admin.TypeRef {
	t, ok := c.types[oid]
	if !ok {
		return admin.TypeRef{Format: format, Name: "unknown", Kind: admin.TypeRefKindPseudo}
	}
	if format == "" {
		format = t.Formatted
	}
	t = c.resolveDomain(t)
	array := false
	if t.Category == "A" && t.ElementType.Uint32 != 0 {
		if elem, ok := c.types[t.ElementType.Uint32]; ok {
			array, t = true, c.resolveDomain(elem)
		}
	}
	ref := admin.TypeRef{Format: format, Schema: t.Schema, Name: t.Name, Array: array, Kind: admin.TypeRefKindBase}
	switch t.Kind {
	case "e":
		ref.Kind = admin.TypeRefKindEnum
		if !c.described[t.Schema] {
			ref.Values = ptr(nonNil(c.enumLabels[key(t.Schema, t.Name)]))
		}
	case "c":
		switch t.Relkind {
		case "c":
			ref.Kind = admin.TypeRefKindComposite
		case "v", "m":
			ref.Kind = admin.TypeRefKindView
		default:
			ref.Kind = admin.TypeRefKindTable
		}
	case "r":
		ref.Kind = admin.TypeRefKindRange
	case "m":
		ref.Kind = admin.TypeRefKindMultirange
	case "p":
		ref.Kind = admin.TypeRefKindPseudo
	}
	return ref
}

func (c *catalog) resolveDomain(t db.ListTypesRow) db.ListTypesRow {
	for depth := 0; t.Kind == "d" && depth < 32; depth++ {
		base, ok := c.types[t.BaseType.Uint32]
		if !ok {
			break
		}
		t = base
	}
	return t
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ptr[T any](v T) *T { return &v }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// IsInvalidSchemas reports whether err refuses the requested schemas.
func IsInvalidSchemas(err error) (*InvalidSchemasError, bool) {
	var e *InvalidSchemasError
	ok := errors.As(err, &e)
	return e, ok
}
