package postgrest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// planCall resolves /rpc/fn: the overload, its arguments and the read over
// its result.
func (pl Planner) planCall(p *Plan, r *Request) (*Plan, error) {
	p.Action = ActionCall
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		return nil, newError(http.StatusMethodNotAllowed, CodeRPCMethod, "Cannot use the %s method on RPC", r.Method)
	}
	overloads := pl.Cache.Functions(p.Schema, r.Resource)
	call := &Call{}

	// The argument names the request supplies.
	var names []string
	var obj map[string]json.RawMessage
	body := bytes.TrimSpace(r.Body)
	post := r.Method == http.MethodPost
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(r.ContentType, ";", 2)[0]))
	if post {
		switch mt {
		case "", "application/json":
			if len(body) == 0 {
				body = []byte("{}")
			}
			if body[0] == '[' {
				var arr []json.RawMessage
				if err := json.Unmarshal(body, &arr); err != nil {
					return nil, bodyError("Empty or invalid json")
				}
				body = []byte("{}")
				if len(arr) > 0 {
					body = arr[0]
				}
			}
			if err := json.Unmarshal(body, &obj); err != nil {
				obj = nil // maybe a single unnamed json parameter
			}
		case "application/x-www-form-urlencoded":
			vals, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, bodyError("Empty or invalid form data")
			}
			obj = map[string]json.RawMessage{}
			for k, v := range vals {
				b, _ := json.Marshal(v[len(v)-1])
				obj[k] = b
			}
			body, _ = json.Marshal(obj)
		default:
			return nil, bodyError("Content-Type not acceptable: %s", mt)
		}
		for k := range obj {
			if r.Query.Columns == nil || contains(r.Query.Columns, k) {
				names = append(names, k)
			}
		}
	} else {
		call.GETArgs = map[string][]string{}
		for _, a := range r.Query.Args {
			if _, ok := call.GETArgs[a.Name]; !ok {
				names = append(names, a.Name)
			}
			call.GETArgs[a.Name] = append(call.GETArgs[a.Name], a.Value)
		}
	}
	sort.Strings(names)

	var matches []*Function
	for _, f := range overloads {
		if argsMatch(f, names) {
			matches = append(matches, f)
		}
	}
	if len(matches) == 0 && post && (obj == nil || len(overloads) > 0) {
		// Fallback: one unnamed json/jsonb parameter gets the whole body.
		for _, f := range overloads {
			if len(f.Args) == 1 && f.Args[0].Name == "" && (f.Args[0].BaseType == "json" || f.Args[0].BaseType == "jsonb") {
				matches = append(matches, f)
				call.SingleUnnamed = true
			}
		}
	}
	if len(matches) == 0 {
		return nil, noFunction(p.Schema, r.Resource, names, overloads, post)
	}
	if len(matches) > 1 {
		var sigs []string
		for _, f := range matches {
			var as []string
			for _, a := range f.Args {
				as = append(as, a.Name+" => "+a.Type)
			}
			sigs = append(sigs, fmt.Sprintf("%s.%s(%s)", f.Schema, f.Name, strings.Join(as, ", ")))
		}
		return nil, newError(http.StatusMultipleChoices, CodeAmbiguousFunction,
			"Could not choose the best candidate function between: %s", strings.Join(sigs, ", ")).
			withHint("Try renaming the parameters or the function itself in the database so function overloading can be resolved")
	}
	f := matches[0]
	call.Fn = f
	if call.SingleUnnamed {
		if len(body) == 0 {
			body = []byte("{}")
		}
		if !json.Valid(body) {
			return nil, bodyError("Empty or invalid json")
		}
		call.JSON = body
	} else {
		for _, a := range f.Args {
			if contains(names, a.Name) {
				call.Args = append(call.Args, a)
			}
		}
		if post {
			call.JSON = body
		}
	}
	p.Call = call
	p.ReadOnly = !post || f.Volatility != 'v'

	if p.Prefs.Handling == "strict" && p.Prefs.MaxAffected != nil && !f.RetSet {
		return nil, newError(http.StatusBadRequest, CodeMaxAffectedRPC,
			"Function must return SETOF or TABLE when max-affected preference is used with handling=strict")
	}

	// The read over the result.
	rel := f.RetTable
	if rel == nil && f.RetComposite {
		rel = &Table{Schema: f.Schema, Name: f.Name, cols: map[string]*Column{}}
		for _, c := range f.RetColumns {
			col := &Column{Name: c}
			rel.Columns = append(rel.Columns, col)
			rel.cols[c] = col
		}
	}
	if rel == nil {
		call.Scalar = true
		if r.Query.Select != nil || len(r.Query.Filters) > 0 || len(r.Query.Logic) > 0 || len(r.Query.Orders) > 0 {
			// PostgREST lets these through to fail in the database; a
			// scalar result has no columns to select, filter or order by.
			return nil, newError(http.StatusBadRequest, "42703", "a scalar function result has no columns to select, filter or order")
		}
		p.Read = &ReadNode{Items: []*OutItem{{Star: true}}}
		if lim := r.Query.Ranges[""]; lim != nil {
			p.Read.Limit, p.Read.Offset = lim.Limit, lim.Offset
		}
		return p, pl.applyRange(p, r)
	}
	node, err := pl.readNode(rel, r.Query.Select, nil, 0)
	if err != nil {
		return nil, err
	}
	if err := pl.attach(node, r.Query, true); err != nil {
		return nil, err
	}
	p.Read, p.Where, p.Table = node, node.Where, rel
	return p, pl.applyRange(p, r)
}

// argsMatch says whether f can be called with exactly these named arguments.
func argsMatch(f *Function, names []string) bool {
	given := set(names)
	for _, a := range f.Args {
		if a.Name == "" {
			return false
		}
		if !given[a.Name] && !a.HasDefault {
			return false
		}
		delete(given, a.Name)
	}
	return len(given) == 0
}

func noFunction(schema, name string, args []string, overloads []*Function, post bool) *Error {
	var msg, details string
	if len(args) == 0 {
		msg = fmt.Sprintf("Could not find the function %s.%s without parameters in the schema cache", schema, name)
		details = fmt.Sprintf("Searched for the function %s.%s without parameters", schema, name)
	} else {
		msg = fmt.Sprintf("Could not find the function %s.%s(%s) in the schema cache", schema, name, strings.Join(args, ", "))
		details = fmt.Sprintf("Searched for the function %s.%s with parameters %s", schema, name, strings.Join(args, ", "))
	}
	if post {
		details += " or with a single unnamed json/jsonb parameter"
	}
	details += ", but no matches were found in the schema cache."
	var hint any
	if len(overloads) > 0 {
		var as []string
		for _, a := range overloads[0].Args {
			as = append(as, a.Name)
		}
		hint = fmt.Sprintf("Perhaps you meant to call the function %s.%s(%s)", schema, name, strings.Join(as, ", "))
	}
	return newError(http.StatusNotFound, CodeNoFunction, "%s", msg).withDetails(details).withHint(hint)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
