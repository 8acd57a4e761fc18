package dbschema_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fixture is the schema the type generator's tests render too.
func fixture(t *testing.T) *apitest.Env {
	t.Helper()
	e := apitest.New(t)
	sql, err := os.ReadFile("../typegen/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Pools.Owner.Exec(context.Background(), string(sql)); err != nil {
		t.Fatal(err)
	}
	return e
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func decode(t *testing.T, body []byte) admin.DatabaseSchema {
	t.Helper()
	var out admin.DatabaseSchema
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func relation(t *testing.T, rels []admin.RelationInfo, name string) admin.RelationInfo {
	t.Helper()
	for _, r := range rels {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no relation %s", name)
	return admin.RelationInfo{}
}

func column(t *testing.T, r admin.RelationInfo, name string) admin.ColumnInfo {
	t.Helper()
	for _, c := range r.Columns {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s has no column %s", r.Name, name)
	return admin.ColumnInfo{}
}

func TestGetSchema(t *testing.T) {
	t.Parallel()
	e := fixture(t)
	user := e.UserToken(t, "5d0f1e9a-7a4b-4c53-9c1e-0d7b3f0c1a11", time.Minute)
	var seventeen []string
	for i := range 17 {
		seventeen = append(seventeen, fmt.Sprintf("s%d", i))
	}
	many := strings.Join(seventeen, ",")
	e.Run(t,
		apitest.Scenario{Name: "no token", Method: "GET", URL: "/api/schema", WantStatus: 401},
		apitest.Scenario{Name: "anon key", Method: "GET", URL: "/api/schema", Headers: bearer(e.AnonKey), WantStatus: 401},
		apitest.Scenario{Name: "user token", Method: "GET", URL: "/api/schema", Headers: bearer(user), WantStatus: 403},
		apitest.Scenario{Name: "a system schema", Method: "GET", URL: "/api/schema?schemas=pg_catalog",
			Headers: bearer(e.ServiceKey), WantStatus: 400, WantBody: []string{`"bad_request"`, "internal schema"}},
		apitest.Scenario{Name: "the platform schema", Method: "GET", URL: "/api/schema?schemas=public,pgstack",
			Headers: bearer(e.ServiceKey), WantStatus: 400, WantBody: []string{"internal schema"}},
		apitest.Scenario{Name: "a missing schema", Method: "GET", URL: "/api/schema?schemas=nope",
			Headers: bearer(e.ServiceKey), WantStatus: 400, WantBody: []string{`schema \"nope\" does not exist`}},
		apitest.Scenario{Name: "an empty name", Method: "GET", URL: "/api/schema?schemas=public,,other",
			Headers: bearer(e.ServiceKey), WantStatus: 400},
		apitest.Scenario{Name: "too many schemas", Method: "GET", URL: "/api/schema?schemas=" + many,
			Headers: bearer(e.ServiceKey), WantStatus: 400, WantBody: []string{"at most 16"}},
		apitest.Scenario{Name: "a quoted name is only a name", Method: "GET", URL: `/api/schema?schemas=public%22%3B%20drop%20table%20books%3B--`,
			Headers: bearer(e.ServiceKey), WantStatus: 400, WantBody: []string{"does not exist"}},
		apitest.Scenario{Name: "two schemas, sorted", Method: "GET", URL: "/api/schema?schemas=other,%20public",
			Headers: bearer(e.ServiceKey), WantStatus: 200, Check: func(t *testing.T, _ *http.Response, body []byte) {
				s := decode(t, body)
				if len(s.Schemas) != 2 || s.Schemas[0].Name != "other" || s.Schemas[1].Name != "public" {
					t.Fatalf("schemas = %+v", s.Schemas)
				}
				aal := column(t, relation(t, s.Schemas[0].Tables, "notes"), "aal").Type
				if aal.Kind != admin.TypeRefKindEnum || aal.Schema != "auth" || aal.Values == nil ||
					!slices.Equal(*aal.Values, []string{"aal1", "aal2", "aal3"}) {
					t.Errorf("an enum outside the described schemas carries its values: %+v", aal)
				}
			}},
		apitest.Scenario{Name: "the default schemas", Method: "GET", URL: "/api/schema",
			Headers: bearer(e.ServiceKey), WantStatus: 200, Check: func(t *testing.T, _ *http.Response, body []byte) {
				s := decode(t, body)
				if len(s.Schemas) != 1 || s.Schemas[0].Name != "public" {
					t.Fatalf("schemas = %+v, want REST_SCHEMAS (public)", s.Schemas)
				}
				checkPublic(t, s.Schemas[0])
			}},
	)
}

// rows shows the ROWS estimate of set-returning functions other than the
// default 1000.
func rows(f admin.FunctionInfo) string {
	if f.Rows == nil || *f.Rows == 1000 {
		return ""
	}
	return fmt.Sprintf(" rows=%g", *f.Rows)
}

func checkPublic(t *testing.T, s admin.SchemaInfo) {
	var names []string
	for _, r := range s.Tables {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"authors", "book_tags", "books", "profiles", "tags"}) {
		t.Errorf("tables = %v", names)
	}
	if len(s.Views) != 1 || s.Views[0].Name != "book_titles" {
		t.Errorf("views = %+v", s.Views)
	}

	authors := relation(t, s.Tables, "authors")
	if authors.Comment == nil || *authors.Comment != "People who write books" || !slices.Equal(authors.PrimaryKey, []string{"id"}) {
		t.Errorf("authors: comment %v, key %v", authors.Comment, authors.PrimaryKey)
	}
	id := column(t, authors, "id")
	if id.Identity == nil || *id.Identity != admin.Always || id.Default != nil || id.Nullable || id.Type.Name != "int8" {
		t.Errorf("authors.id = %+v", id)
	}
	email := column(t, authors, "email")
	if email.Type.Name != "text" || email.Type.Format != "email" || !email.Nullable {
		t.Errorf("a domain resolves to its base type: %+v", email.Type)
	}
	mood := column(t, authors, "mood")
	if mood.Type.Kind != admin.TypeRefKindEnum || mood.Type.Schema != "public" || mood.Type.Values != nil ||
		mood.Default == nil || !strings.Contains(*mood.Default, "'ok'") {
		t.Errorf("authors.mood = %+v", mood)
	}
	if tags := column(t, authors, "tags").Type; !tags.Array || tags.Name != "text" || tags.Format != "text[]" {
		t.Errorf("authors.tags = %+v", tags)
	}
	if home := column(t, authors, "home").Type; home.Kind != admin.TypeRefKindComposite || home.Name != "address" {
		t.Errorf("authors.home = %+v", home)
	}

	books := relation(t, s.Tables, "books")
	if !books.RlsEnabled || books.RlsForced || len(books.Policies) != 2 {
		t.Fatalf("books security: rls %v forced %v policies %+v", books.RlsEnabled, books.RlsForced, books.Policies)
	}
	insert, sel := books.Policies[0], books.Policies[1] // by name
	if sel.Name != "published books are public" || sel.Command != admin.SELECT || !sel.Permissive ||
		!slices.Equal(sel.Roles, []string{"anon", "authenticated"}) || sel.Using == nil ||
		*sel.Using != "(published IS NOT NULL)" || sel.WithCheck != nil {
		t.Errorf("select policy = %+v", sel)
	}
	if insert.Command != admin.INSERT || insert.Permissive || insert.Using != nil || insert.WithCheck == nil ||
		!strings.Contains(*insert.WithCheck, "auth.jwt()") {
		t.Errorf("insert policy = %+v", insert)
	}
	if gen := column(t, books, "title_upper"); !gen.Generated || gen.Default != nil {
		t.Errorf("books.title_upper = %+v", gen)
	}
	if bid := column(t, books, "id"); bid.Identity == nil || *bid.Identity != admin.ByDefault {
		t.Errorf("books.id = %+v", bid)
	}
	if title := column(t, books, "title").Type; title.Format != "character varying(200)" || title.Name != "varchar" {
		t.Errorf("books.title = %+v", title)
	}
	if relation(t, s.Tables, "authors").RlsEnabled {
		t.Error("authors has no row-level security")
	}

	rel := func(r admin.RelationInfo) []string {
		var out []string
		for _, x := range r.Relationships {
			out = append(out, x.ForeignKeyName+" "+strings.Join(x.Columns, ",")+" -> "+x.ReferencedSchema+"."+
				x.ReferencedRelation+"("+strings.Join(x.ReferencedColumns, ",")+")"+map[bool]string{true: " 1:1", false: ""}[x.IsOneToOne])
		}
		return out
	}
	checkRels := func(name string, r admin.RelationInfo, want ...string) {
		if got := rel(r); !slices.Equal(got, want) {
			t.Errorf("%s relationships = %q, want %q", name, got, want)
		}
	}
	checkRels("books", books, "books_author_id_fkey author_id -> public.authors(id)")
	checkRels("profiles", relation(t, s.Tables, "profiles"), "profiles_author_id_fkey author_id -> public.authors(id) 1:1")
	checkRels("book_tags", relation(t, s.Tables, "book_tags"),
		"book_tags_book_id_fkey book_id -> public.book_titles(id)",
		"book_tags_book_id_fkey book_id -> public.books(id)",
		"book_tags_tag_id_fkey tag_id -> public.tags(id)")
	checkRels("authors", authors)
	view := relation(t, s.Views, "book_titles")
	checkRels("book_titles", view, "books_author_id_fkey author_id -> public.authors(id)")
	if !view.Updatable || column(t, view, "double_price").Updatable || !column(t, view, "title").Updatable {
		t.Errorf("view updatability: %+v", view)
	}

	var fns []string
	for _, f := range s.Functions {
		var args []string
		for _, a := range f.Args {
			args = append(args, string(a.Mode)+" "+a.Name+" "+a.Type.Format+map[bool]string{true: "=", false: ""}[a.HasDefault])
		}
		fns = append(fns, f.Name+"("+strings.Join(args, ", ")+") "+map[bool]string{true: "setof ", false: ""}[f.ReturnsSet]+
			f.ReturnType.Format+" "+string(f.ReturnType.Kind)+" "+string(f.Volatility)+rows(f))
	}
	want := []string{
		"add(in a integer, in b integer=) integer base immutable",
		"add(in x text, in y text) text base immutable",
		"author_stats(in min_books integer=, table author_id bigint, table books bigint) setof record pseudo stable",
		"books_by_mood(in m mood) setof books table stable",
		"label(in  books) text base stable",
		"latest_book(in  authors) setof books table stable rows=1",
		"moods() mood[] enum immutable",
		"ping() void pseudo volatile",
		"where_is(in person text) address composite stable",
	}
	if !slices.Equal(fns, want) {
		t.Errorf("functions:\n%s\nwant:\n%s", strings.Join(fns, "\n"), strings.Join(want, "\n"))
	}
	if len(s.Enums) != 1 || s.Enums[0].Name != "mood" || !slices.Equal(s.Enums[0].Values, []string{"sad", "ok", "happy"}) {
		t.Errorf("enums = %+v", s.Enums)
	}
	if len(s.CompositeTypes) != 1 || s.CompositeTypes[0].Name != "address" || len(s.CompositeTypes[0].Attributes) != 3 ||
		s.CompositeTypes[0].Attributes[2].Name != "zip" || s.CompositeTypes[0].Attributes[2].Type.Name != "int4" {
		t.Errorf("composite types = %+v", s.CompositeTypes)
	}
}
