package postgrest

import (
	"errors"
	"reflect"
	"testing"
)

func ptr[T any](v T) *T { return &v }

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		rpcGet  bool
		want    *Query
		wantErr string // PGRST code
	}{
		{name: "select with alias, cast, json path and embeds",
			query: "select=id,n:name::text,data->a->>b,dir:directors!fk!inner(id,...x(*)),rel()",
			want: &Query{Select: []*SelectItem{
				{Field: Field{Name: "id"}},
				{Field: Field{Name: "name"}, Alias: "n", Cast: "text"},
				{Field: Field{Name: "data", Path: []JSONStep{{Key: "a"}, {Key: "b", Text: true}}}},
				{Alias: "dir", Embed: &Embed{Name: "directors", Hint: "fk", Inner: true, Select: []*SelectItem{
					{Field: Field{Name: "id"}},
					{Embed: &Embed{Name: "x", Spread: true, Select: []*SelectItem{{Star: true}}}},
				}}},
				{Embed: &Embed{Name: "rel", Select: nil}},
			}}},
		{name: "json index and negative index", query: "select=arr->0,arr->-1->>k",
			want: &Query{Select: []*SelectItem{
				{Field: Field{Name: "arr", Path: []JSONStep{{Key: "0", Index: true}}}},
				{Field: Field{Name: "arr", Path: []JSONStep{{Key: "-1", Index: true}, {Key: "k", Text: true}}}},
			}}},
		{name: "aggregates with casts", query: "select=t:year::numeric.sum()::int,count(),rating.max()",
			want: &Query{Select: []*SelectItem{
				{Alias: "t", Field: Field{Name: "year"}, Aggregate: "sum", InnerCast: "numeric", Cast: "int"},
				{Aggregate: "count"},
				{Field: Field{Name: "rating"}, Aggregate: "max"},
			}}},
		{name: "quoted names", query: `select="a.b","c,d"`,
			want: &Query{Select: []*SelectItem{{Field: Field{Name: "a.b"}}, {Field: Field{Name: "c,d"}}}}},
		{name: "filters with not, modifiers and language", query: "a=not.eq.1&b=like(any).{x*,y*}&c=fts(english).cat&d=in.(1,\"2,3\")&e=is.NULL",
			want: &Query{Filters: []*Filter{
				{Field: Field{Name: "a"}, Negate: true, Op: "eq", Value: "1"},
				{Field: Field{Name: "b"}, Op: "like", Modifier: "any", Value: "{x%,y%}"},
				{Field: Field{Name: "c"}, Op: "fts", Lang: "english", Value: "cat"},
				{Field: Field{Name: "d"}, Op: "in", List: []string{"1", "2,3"}},
				{Field: Field{Name: "e"}, Op: "is", Value: "null"},
			}}},
		{name: "plus is space", query: "title=eq.Lady+Bird",
			want: &Query{Filters: []*Filter{{Field: Field{Name: "title"}, Op: "eq", Value: "Lady Bird"}}}},
		{name: "embedded filter, order, limit", query: "rel.sub.col=gt.2&rel.order=a.desc.nullslast,b&rel.limit=5&rel.offset=1",
			want: &Query{
				Filters: []*Filter{{Path: []string{"rel", "sub"}, Field: Field{Name: "col"}, Op: "gt", Value: "2"}},
				Orders:  []Order{{Path: []string{"rel"}, Terms: []OrderTerm{{Field: Field{Name: "a"}, Dir: "desc", Nulls: "last"}, {Field: Field{Name: "b"}}}}},
				Ranges:  map[string]*Range{"rel": {Limit: ptr[int64](5), Offset: 1}},
			}},
		{name: "related order", query: "order=directors(last_name).desc",
			want: &Query{Orders: []Order{{Terms: []OrderTerm{{Relation: "directors", Field: Field{Name: "last_name"}, Dir: "desc"}}}}}},
		{name: "nested logic", query: "or=(a.eq.1,not.and(b.gte.2,c.is.null),d.in.(1,2),r.not.is.null)",
			want: &Query{Logic: []*LogicTree{{Or: true, Children: []LogicNode{
				{Filter: &Filter{Field: Field{Name: "a"}, Op: "eq", Value: "1"}},
				{Tree: &LogicTree{Negate: true, Children: []LogicNode{
					{Filter: &Filter{Field: Field{Name: "b"}, Op: "gte", Value: "2"}},
					{Filter: &Filter{Field: Field{Name: "c"}, Op: "is", Value: "null"}},
				}}},
				{Filter: &Filter{Field: Field{Name: "d"}, Op: "in", List: []string{"1", "2"}}},
				{Filter: &Filter{Field: Field{Name: "r"}, Negate: true, Op: "is", Value: "null"}},
			}}}}},
		{name: "quoted value in logic", query: `and=(r.ov."[1,2)",t.eq."a,b")`,
			want: &Query{Logic: []*LogicTree{{Children: []LogicNode{
				{Filter: &Filter{Field: Field{Name: "r"}, Op: "ov", Value: "[1,2)"}},
				{Filter: &Filter{Field: Field{Name: "t"}, Op: "eq", Value: "a,b"}},
			}}}}},
		{name: "rpc arguments", query: "a=1&b=eq.2&c=", rpcGet: true,
			want: &Query{Args: []Arg{{Name: "a", Value: "1"}, {Name: "c", Value: ""}},
				Filters: []*Filter{{Field: Field{Name: "b"}, Op: "eq", Value: "2"}}}},
		{name: "columns and on_conflict", query: `columns="a","b c"&on_conflict=a`,
			want: &Query{Columns: []string{"a", "b c"}, OnConflict: []string{"a"}}},
		{name: "key without value is ignored", query: "foo", want: &Query{}},
		{name: "unknown operator", query: "a=noop.1", wantErr: CodeParse},
		{name: "empty filter value", query: "a=", wantErr: CodeParse},
		{name: "bad order", query: "order=a.up", wantErr: CodeParse},
		{name: "bad limit", query: "limit=x", wantErr: CodeParse},
		{name: "unbalanced select", query: "select=a,b(c", wantErr: CodeParse},
		{name: "modifier on a non-quantifiable operator", query: "a=in(any).{1}", wantErr: CodeParse},
		{name: "unterminated quote in in", query: `a=in.("x)`, wantErr: CodeParse},
		{name: "too deep embedding", query: "select=a(b(c(d(e(f(g(h(i(j(*))))))))))", wantErr: CodeParse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseQuery(tt.query, tt.rpcGet)
			if tt.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.wantErr || e.Status != 400 {
					t.Fatalf("err = %v, want %s 400", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want.Ranges == nil {
				tt.want.Ranges = map[string]*Range{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// FuzzParseQuery: any query string parses or fails with a 4xx, never panics.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"select=id,n:name::text,data->a->>b,dir:directors!fk!inner(id,...x(*))",
		"or=(a.eq.1,not.and(b.gte.2,c.is.null))&order=a.desc.nullslast&limit=1&offset=2",
		"a=in.(1,\"2,3\")&b=like(any).{x*,y*}&c=fts(english).cat",
		`columns="a","b"&on_conflict=a&rel.or=(x.eq.1)&rel.limit=3`,
		"select=*,rel()&rel=not.is.null", "order=rel(col).asc", "a->0->>b=eq.x",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, q string, rpc bool) {
		_, err := ParseQuery(q, rpc)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 {
			t.Fatalf("ParseQuery(%q) = %v, want a 4xx *Error", q, err)
		}
	})
}

func TestLiteral(t *testing.T) {
	for in, want := range map[string]string{`plain`: `'plain'`, `it's`: `'it''s'`, `back\slash`: `E'back\\slash'`, "nul\x00": `'nul'`} {
		if got := literal(in); got != want {
			t.Errorf("literal(%q) = %s, want %s", in, got, want)
		}
	}
}
