package postgrest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// root answers GET / with a Swagger 2.0 description of the exposed schema,
// as PostgREST does.
func (h *Handler) root(w http.ResponseWriter, r *http.Request, c *Cache) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		w.Header().Set("Allow", "OPTIONS,GET,HEAD")
		w.WriteHeader(http.StatusOK)
		return nil
	default:
		return newError(http.StatusMethodNotAllowed, CodeMethod, "Unsupported HTTP method: %s", r.Method)
	}
	media, err := ParseAccept(r.Header.Get("Accept"), true)
	if err != nil {
		return err
	}
	schema := c.Schemas[0]
	if p := strings.TrimSpace(r.Header.Get("Accept-Profile")); p != "" {
		found := false
		for _, s := range c.Schemas {
			found = found || s == p
		}
		if !found {
			return newError(http.StatusNotAcceptable, CodeSchema, "The schema must be one of the following: %s", strings.Join(c.Schemas, ", "))
		}
		schema = p
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(OpenAPI(c, schema, r.Host)); err != nil {
		return err
	}
	b := buf.Bytes()
	w.Header().Set("Content-Type", media.ContentType())
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
	return nil
}

// OpenAPI describes schema: one path per table and function, one definition
// per table.
func OpenAPI(c *Cache, schema, host string) map[string]any {
	paths := map[string]any{"/": map[string]any{"get": map[string]any{
		"tags": []string{"Introspection"}, "summary": "OpenAPI description (this document)",
		"produces":  []string{"application/openapi+json", "application/json"},
		"responses": map[string]any{"200": map[string]any{"description": "OK"}},
	}}}
	defs := map[string]any{}
	params := map[string]any{
		"select": map[string]any{"name": "select", "in": "query", "type": "string", "required": false, "description": "Filtering Columns"},
		"order":  map[string]any{"name": "order", "in": "query", "type": "string", "required": false, "description": "Ordering"},
		"limit":  map[string]any{"name": "limit", "in": "query", "type": "string", "required": false, "description": "Limiting and Pagination"},
		"offset": map[string]any{"name": "offset", "in": "query", "type": "string", "required": false, "description": "Limiting and Pagination"},
		"range":  map[string]any{"name": "Range", "in": "header", "type": "string", "required": false, "description": "Limiting and Pagination"},
		"preferCount": map[string]any{"name": "Prefer", "in": "header", "type": "string", "required": false,
			"enum": []string{"count=none"}, "description": "Preference"},
		"preferReturn": map[string]any{"name": "Prefer", "in": "header", "type": "string", "required": false,
			"enum": []string{"return=representation", "return=minimal", "return=none"}, "description": "Preference"},
		"on_conflict": map[string]any{"name": "on_conflict", "in": "query", "type": "string", "required": false, "description": "On Conflict"},
	}
	ref := func(n string) map[string]any { return map[string]any{"$ref": "#/parameters/" + n} }
	for _, t := range c.Tables(schema) {
		props := map[string]any{}
		var required []string
		for _, col := range t.Columns {
			desc := col.Description
			for _, k := range t.PK {
				if k == col.Name {
					desc = strings.TrimSpace(desc + "\n\nNote:\nThis is a Primary Key.<pk/>")
				}
			}
			for _, r := range t.Rels {
				if r.Cardinality == ManyToOne && len(r.FromCols) == 1 && r.FromCols[0] == col.Name {
					desc = strings.TrimSpace(desc + "\n\nNote:\nThis is a Foreign Key to `" + r.To.Name + "." + r.ToCols[0] + "`.<fk table='" + r.To.Name + "' column='" + r.ToCols[0] + "'/>")
				}
			}
			prop := map[string]any{"type": swaggerType(col.BaseType), "format": col.Type}
			if desc != "" {
				prop["description"] = desc
			}
			props[col.Name] = prop
			if !col.Nullable && col.Default == "" && !col.Generated {
				required = append(required, col.Name)
			}
			params["rowFilter."+t.Name+"."+col.Name] = map[string]any{"name": col.Name, "in": "query", "type": "string", "required": false, "format": col.Type}
		}
		def := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			def["required"] = required
		}
		if t.Description != "" {
			def["description"] = t.Description
		}
		defs[t.Name] = def
		filters := []any{}
		for _, col := range t.Columns {
			filters = append(filters, ref("rowFilter."+t.Name+"."+col.Name))
		}
		ok := map[string]any{"200": map[string]any{"description": "OK",
			"schema": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/definitions/" + t.Name}}}}
		path := map[string]any{"get": map[string]any{"tags": []string{t.Name}, "summary": t.Description,
			"parameters": append(append([]any{}, filters...), ref("select"), ref("order"), ref("range"), ref("offset"), ref("limit"), ref("preferCount")),
			"responses":  ok}}
		body := map[string]any{"name": t.Name, "in": "body", "required": false, "schema": map[string]any{"$ref": "#/definitions/" + t.Name}}
		if t.Insertable {
			path["post"] = map[string]any{"tags": []string{t.Name}, "parameters": []any{body, ref("select"), ref("preferReturn"), ref("on_conflict")},
				"responses": map[string]any{"201": map[string]any{"description": "Created"}}}
		}
		if t.Updatable {
			path["patch"] = map[string]any{"tags": []string{t.Name}, "parameters": append(append([]any{}, filters...), body, ref("preferReturn")),
				"responses": map[string]any{"204": map[string]any{"description": "No Content"}}}
		}
		if t.Deletable {
			path["delete"] = map[string]any{"tags": []string{t.Name}, "parameters": append(append([]any{}, filters...), ref("preferReturn")),
				"responses": map[string]any{"204": map[string]any{"description": "No Content"}}}
		}
		paths["/"+t.Name] = path
	}
	for _, f := range c.AllFunctions(schema) {
		props := map[string]any{}
		var required []string
		for _, a := range f.Args {
			if a.Name == "" {
				continue
			}
			props[a.Name] = map[string]any{"type": swaggerType(a.BaseType), "format": a.Type}
			if !a.HasDefault {
				required = append(required, a.Name)
			}
		}
		schemaObj := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			schemaObj["required"] = required
		}
		op := map[string]any{"tags": []string{"(rpc) " + f.Name}, "summary": f.Description,
			"parameters": []any{map[string]any{"name": "args", "in": "body", "required": true, "schema": schemaObj}},
			"responses":  map[string]any{"200": map[string]any{"description": "OK"}}}
		paths["/rpc/"+f.Name] = map[string]any{"post": op}
	}
	return map[string]any{
		"swagger":     "2.0",
		"info":        map[string]any{"title": "pgStack REST API", "description": "PostgREST-compatible API of the " + schema + " schema", "version": "12"},
		"host":        host,
		"basePath":    "/rest/v1",
		"schemes":     []string{"http", "https"},
		"consumes":    []string{"application/json", "application/vnd.pgrst.object+json", "text/csv"},
		"produces":    []string{"application/json", "application/vnd.pgrst.object+json", "text/csv"},
		"paths":       paths,
		"definitions": defs,
		"parameters":  params,
	}
}

func swaggerType(base string) string {
	switch base {
	case "int2", "int4", "int8":
		return "integer"
	case "float4", "float8", "numeric":
		return "number"
	case "bool":
		return "boolean"
	case "json", "jsonb":
		return "object"
	}
	if strings.HasPrefix(base, "_") {
		return "array"
	}
	return "string"
}
