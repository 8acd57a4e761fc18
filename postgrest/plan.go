package postgrest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// Request is what the planner needs from an HTTP request.
type Request struct {
	Method      string
	Resource    string // table, view or function name
	RPC         bool
	Profile     string // Accept-Profile / Content-Profile, "" if absent
	Query       *Query
	Prefs       Preferences
	Media       Media
	Body        []byte
	ContentType string
	// Range header (GET only).
	RangeLower int64
	RangeUpper *int64
}

// Action is what a plan does.
type Action int

const (
	ActionRead Action = iota
	ActionInsert
	ActionUpdate
	ActionDelete
	ActionPut
	ActionCall
)

// Plan is a request resolved against the schema cache.
type Plan struct {
	Action   Action
	Schema   string
	Table    *Table
	Read     *ReadNode // rows to return (reads, representations, RPC rows)
	Mutation *Mutation
	Call     *Call
	Media    Media
	Prefs    Preferences
	Head     bool
	ReadOnly bool
	// Return is the effective return preference of writes.
	Return string
	// Offset and Limit of the root (for Content-Range).
	Offset int64
	Limit  *int64
	// Where of the root, also used by mutations.
	Where []*Cond
	// MaxRows is the planner's MaxRows (REST_MAX_ROWS), which also bounds
	// the exact part of count=estimated.
	MaxRows int64
}

// ReadNode reads rows of one relation.
type ReadNode struct {
	Rel    *Table
	Items  []*OutItem
	Where  []*Cond // ANDed
	Order  []*OrderBy
	Limit  *int64
	Offset int64
	Embeds []*EmbedNode
}

// OutItem is one output column.
type OutItem struct {
	Star   bool
	Column *Column // nil for count()
	Field  Field
	Key    string // output key
	Cast   string
	Embed  *EmbedNode
	// Aggregate (count, sum, avg, min, max) with the cast of its input.
	Aggregate string
	InnerCast string
}

// hasAggregates reports whether the node's output aggregates (the other
// output columns are then its GROUP BY).
func (n *ReadNode) hasAggregates() bool {
	for _, it := range n.Items {
		if it.Aggregate != "" {
			return true
		}
	}
	return false
}

// EmbedNode is an embedded relation.
type EmbedNode struct {
	Rel    *Relationship
	Key    string // output key: alias or name
	Name   string // the name used in select
	Alias  string
	Inner  bool
	Spread bool
	Hidden bool // rel(): joined, not output
	Node   *ReadNode
}

// Cond is a condition tree: a filter, an embed null check or and/or.
type Cond struct {
	Filter *Filter
	Column *Column
	// Embed null check: rel=is.null / rel=not.is.null.
	Embed   *EmbedNode
	IsNull  bool
	Or      bool
	Negate  bool
	Childs  []*Cond
	IsGroup bool
}

// OrderBy is one ORDER BY term.
type OrderBy struct {
	Embed  *EmbedNode // related order on a to-one embed
	Column *Column
	Field  Field
	Dir    string
	Nulls  string
}

// Mutation is an insert, update, delete or put.
type Mutation struct {
	Columns        []*Column
	Body           []byte // JSON array (insert) or object (update)
	OnConflict     []string
	Resolution     string
	MissingDefault bool
	// PKValues are the URL's primary key values (PUT), in PK order.
	PKValues []string
}

// Call is an RPC call.
type Call struct {
	Fn *Function
	// Args are the named arguments passed, in the function's order.
	Args []FuncArg
	// JSON carries the arguments (POST) as one JSON object; GETArgs the
	// GET values by name (several for a variadic argument).
	JSON          []byte
	GETArgs       map[string][]string
	SingleUnnamed bool
	Scalar        bool
}

// Planner plans requests against a schema cache.
type Planner struct {
	Cache *Cache
	// Aggregates allows count(), sum(), avg(), min() and max() in select
	// (PostgREST's db-aggregates-enabled; off by default: PGRST123).
	Aggregates bool
	// MaxRows caps every read node (the root and each embed) of reads and
	// RPC results, as PostgREST's db-max-rows; 0 is no cap.
	MaxRows int64
}

// capRows applies MaxRows to n and its embeds.
func (pl Planner) capRows(n *ReadNode) {
	if pl.MaxRows <= 0 || n == nil {
		return
	}
	if n.Limit == nil || *n.Limit > pl.MaxRows {
		m := pl.MaxRows
		n.Limit = &m
	}
	for _, e := range n.Embeds {
		pl.capRows(e.Node)
	}
}

// Plan resolves r.
func (pl Planner) Plan(r *Request) (*Plan, error) {
	c := pl.Cache
	schema := c.Schemas[0]
	if r.Profile != "" {
		found := false
		for _, s := range c.Schemas {
			if s == r.Profile {
				found = true
			}
		}
		if !found {
			return nil, newError(http.StatusNotAcceptable, CodeSchema, "The schema must be one of the following: %s",
				strings.Join(c.Schemas, ", "))
		}
		schema = r.Profile
	}
	p := &Plan{Schema: schema, Media: r.Media, Prefs: r.Prefs, Head: r.Method == http.MethodHead, MaxRows: pl.MaxRows}
	if !pl.Aggregates {
		for _, sel := range r.Query.Select {
			if err := rejectAggregates(sel); err != nil {
				return nil, err
			}
		}
	}
	if r.RPC {
		return pl.planCall(p, r)
	}
	t, ok := c.Table(schema, r.Resource)
	if !ok {
		return nil, newError(http.StatusNotFound, CodeNoTable, "Could not find the table '%s.%s' in the schema cache", schema, r.Resource).
			withHint(suggestTable(c, schema, r.Resource))
	}
	p.Table = t
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		p.Action, p.ReadOnly = ActionRead, true
	case http.MethodPost:
		p.Action = ActionInsert
	case http.MethodPatch:
		p.Action = ActionUpdate
	case http.MethodDelete:
		p.Action = ActionDelete
	case http.MethodPut:
		p.Action = ActionPut
	default:
		return nil, newError(http.StatusMethodNotAllowed, CodeMethod, "Unsupported HTTP method: %s", r.Method)
	}
	node, err := pl.readNode(t, r.Query.Select, nil, 0)
	if err != nil {
		return nil, err
	}
	if err := pl.attach(node, r.Query, p.Action == ActionRead); err != nil {
		return nil, err
	}
	p.Read = node
	p.Where = node.Where
	if p.Action == ActionRead {
		return p, pl.applyRange(p, r)
	}

	// Writes.
	p.Return = r.Prefs.Return
	if p.Return == "" {
		p.Return = "minimal"
	}
	m := &Mutation{Resolution: r.Prefs.Resolution, MissingDefault: r.Prefs.Missing == "default"}
	p.Mutation = m
	switch p.Action {
	case ActionInsert, ActionPut:
		if p.Action == ActionPut {
			if err := planPut(p, r); err != nil {
				return nil, err
			}
		}
		rows, cols, err := decodeRows(r, t, true)
		if err != nil {
			return nil, err
		}
		m.Body, m.Columns = rows, cols
		if !t.Insertable {
			return nil, newError(http.StatusMethodNotAllowed, CodeMethod, "Cannot insert into '%s'", t.Name)
		}
		if len(r.Query.OnConflict) > 0 {
			for _, name := range r.Query.OnConflict {
				if _, ok := t.Column(name); !ok {
					return nil, noColumn(name, t)
				}
			}
			m.OnConflict = r.Query.OnConflict
		} else if len(t.PK) > 0 && (m.Resolution != "" || p.Action == ActionPut) {
			m.OnConflict = t.PK
		}
		if p.Action == ActionPut {
			m.Resolution = "merge-duplicates"
		}
		if len(m.OnConflict) == 0 {
			m.Resolution = ""
		}
	case ActionUpdate:
		rows, cols, err := decodeRows(r, t, false)
		if err != nil {
			return nil, err
		}
		m.Body, m.Columns = rows, cols
	}
	return p, nil
}

func rejectAggregates(it *SelectItem) error {
	if it.Aggregate != "" {
		return newError(http.StatusBadRequest, CodeAggregates, "Use of aggregate functions is not allowed")
	}
	if it.Embed != nil {
		for _, c := range it.Embed.Select {
			if err := rejectAggregates(c); err != nil {
				return err
			}
		}
	}
	return nil
}

func noColumn(name string, t *Table) *Error {
	return newError(http.StatusBadRequest, CodeNoColumn, "Could not find the '%s' column of '%s' in the schema cache", name, t.Name)
}

// undefinedColumn mirrors PostgreSQL's 42703 for a column a read names but
// the relation lacks (PostgREST lets the database report it).
func undefinedColumn(t *Table, name string) *Error {
	return newError(http.StatusBadRequest, "42703", "column %s.%s does not exist", t.Name, name)
}

func suggestTable(c *Cache, schema, name string) any {
	best, bestD := "", 4
	for _, t := range c.Tables(schema) {
		if d := levenshtein(t.Name, name); d < bestD {
			best, bestD = t.Name, d
		}
	}
	if best == "" {
		return nil
	}
	return fmt.Sprintf("Perhaps you meant the table '%s.%s'", schema, best)
}

func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// readNode resolves a select list against rel.
func (pl Planner) readNode(rel *Table, items []*SelectItem, from *Table, depth int) (*ReadNode, error) {
	n := &ReadNode{Rel: rel}
	if items == nil {
		n.Items = []*OutItem{{Star: true}}
		return n, nil
	}
	for _, it := range items {
		switch {
		case it.Star:
			n.Items = append(n.Items, &OutItem{Star: true})
		case it.Embed != nil:
			e, err := pl.embed(rel, it)
			if err != nil {
				return nil, err
			}
			child, err := pl.readNode(e.Rel.To, it.Embed.Select, rel, depth+1)
			if err != nil {
				return nil, err
			}
			e.Node = child
			e.Hidden = len(it.Embed.Select) == 0
			n.Embeds = append(n.Embeds, e)
			if !e.Hidden {
				n.Items = append(n.Items, &OutItem{Embed: e, Key: e.Key})
			}
		case it.Aggregate == "count" && it.Field.Name == "":
			key := it.Alias
			if key == "" {
				key = "count"
			}
			n.Items = append(n.Items, &OutItem{Aggregate: "count", Key: key, Cast: it.Cast})
		default:
			col, ok := rel.Column(it.Field.Name)
			if !ok {
				return nil, undefinedColumn(rel, it.Field.Name)
			}
			key := it.Alias
			if key == "" {
				key = it.Field.Key()
				if it.Aggregate != "" {
					key = it.Aggregate
				}
			}
			n.Items = append(n.Items, &OutItem{Column: col, Field: it.Field, Key: key, Cast: it.Cast,
				Aggregate: it.Aggregate, InnerCast: it.InnerCast})
		}
	}
	return n, nil
}

// embed finds the relationship an embed names (PostgREST's findRel).
func (pl Planner) embed(origin *Table, it *SelectItem) (*EmbedNode, error) {
	e := it.Embed
	var matches []*Relationship
	for _, r := range origin.Rels {
		if relMatches(r, e.Name, e.Hint) {
			matches = append(matches, r)
		}
	}
	if len(matches) == 0 {
		msg := newError(http.StatusBadRequest, CodeNoRelationship,
			"Could not find a relationship between '%s' and '%s' in the schema cache", origin.Name, e.Name)
		if e.Hint != "" {
			msg.Details = fmt.Sprintf("Searched for a foreign key relationship between '%s' and '%s' using the hint '%s' in the schema '%s', but no matches were found.",
				origin.Name, e.Name, e.Hint, origin.Schema)
		} else {
			msg.Details = fmt.Sprintf("Searched for a foreign key relationship between '%s' and '%s' in the schema '%s', but no matches were found.",
				origin.Name, e.Name, origin.Schema)
		}
		return nil, msg
	}
	if len(matches) > 1 {
		// A direct relationship wins over a many-to-many through a junction
		// when both join the same pair (PostgREST does the same).
		var direct []*Relationship
		for _, r := range matches {
			if r.Cardinality != ManyToMany {
				direct = append(direct, r)
			}
		}
		if len(direct) == 1 {
			matches = direct
		}
	}
	if len(matches) > 1 {
		details := make([]map[string]string, 0, len(matches))
		var hints []string
		for _, r := range matches {
			d := map[string]string{"cardinality": string(r.Cardinality), "embedding": origin.Name + " with " + r.To.Name}
			if r.Cardinality == ManyToMany {
				d["relationship"] = fmt.Sprintf("%s using %s(%s) and %s(%s)", r.Junction.Name, r.Constraint,
					strings.Join(r.JFromCols, ", "), r.JunctionToConstraint, strings.Join(r.JToCols, ", "))
				hints = append(hints, fmt.Sprintf("'%s!%s'", r.To.Name, r.Junction.Name))
			} else {
				fromT, toT, fromC, toC := r.From, r.To, r.FromCols, r.ToCols
				if !r.fkOnFrom {
					fromT, toT, fromC, toC = r.To, r.From, r.ToCols, r.FromCols
				}
				d["relationship"] = fmt.Sprintf("%s using %s(%s) and %s(%s)", r.Constraint, fromT.Name,
					strings.Join(fromC, ", "), toT.Name, strings.Join(toC, ", "))
				hints = append(hints, fmt.Sprintf("'%s!%s'", r.To.Name, r.Constraint))
			}
			details = append(details, d)
		}
		return nil, newError(http.StatusMultipleChoices, CodeAmbiguousRelation,
			"Could not embed because more than one relationship was found for '%s' and '%s'", origin.Name, e.Name).
			withDetails(details).
			withHint(fmt.Sprintf("Try changing '%s' to one of the following: %s. Find the desired relationship in the 'details' key.",
				e.Name, strings.Join(hints, ", ")))
	}
	r := matches[0]
	key := e.Name
	if it.Alias != "" {
		key = it.Alias
	}
	return &EmbedNode{Rel: r, Key: key, Name: e.Name, Alias: it.Alias, Inner: e.Inner, Spread: e.Spread}, nil
}

func relMatches(r *Relationship, target, hint string) bool {
	single := func(cols []string, name string) bool { return len(cols) == 1 && cols[0] == name }
	if r.Computed != nil {
		return r.Computed.Name == target && hint == ""
	}
	if hint == "" {
		if r.To.Name == target {
			return true
		}
		if r.To.IsView || r.From.IsView {
			return false
		}
		if r.Cardinality == ManyToMany {
			return false
		}
		if r.fkOnFrom && (r.Constraint == target || single(r.FromCols, target)) {
			return true
		}
		return false
	}
	if r.To.Name != target {
		return false
	}
	if r.Cardinality == ManyToMany {
		return r.Junction.Name == hint || r.Constraint == hint || r.JunctionToConstraint == hint
	}
	return r.Constraint == hint || single(r.FromCols, hint) || single(r.ToCols, hint)
}

// findEmbed walks an embed path (aliases or names) from n.
func findEmbed(n *ReadNode, path []string) (*ReadNode, *EmbedNode, error) {
	var last *EmbedNode
	for _, name := range path {
		var found *EmbedNode
		for _, e := range n.Embeds {
			if e.Key == name {
				found = e
				break
			}
		}
		if found == nil {
			for _, e := range n.Embeds {
				if e.Name == name {
					found = e
					break
				}
			}
		}
		if found == nil {
			return nil, nil, newError(http.StatusBadRequest, CodeNotEmbedded, "'%s' is not an embedded resource in this request", name).
				withHint(fmt.Sprintf("Verify that '%s' is included in the 'select' query parameter.", name))
		}
		last, n = found, found.Node
	}
	return n, last, nil
}

// attach places filters, logic trees, orders and ranges on their nodes.
func (pl Planner) attach(root *ReadNode, q *Query, read bool) error {
	for _, f := range q.Filters {
		n, _, err := findEmbed(root, f.Path)
		if err != nil {
			return err
		}
		c, err := filterCond(n, f)
		if err != nil {
			return err
		}
		n.Where = append(n.Where, c)
	}
	for _, t := range q.Logic {
		n, _, err := findEmbed(root, t.Path)
		if err != nil {
			return err
		}
		c, err := treeCond(n, t)
		if err != nil {
			return err
		}
		n.Where = append(n.Where, c)
	}
	for _, o := range q.Orders {
		n, _, err := findEmbed(root, o.Path)
		if err != nil {
			return err
		}
		n.Order = n.Order[:0]
		for _, term := range o.Terms {
			ob := &OrderBy{Field: term.Field, Dir: term.Dir, Nulls: term.Nulls}
			rel := n.Rel
			if term.Relation != "" {
				_, e, err := findEmbed(n, []string{term.Relation})
				if err != nil {
					return err
				}
				if !e.Rel.ToOne() {
					return newError(http.StatusBadRequest, CodeRelatedOrder, "A related order on '%s' is not possible", term.Relation).
						withDetails(fmt.Sprintf("'%s' and '%s' do not form a many-to-one or one-to-one relationship", n.Rel.Name, e.Rel.To.Name))
				}
				ob.Embed, rel = e, e.Rel.To
			}
			col, ok := rel.Column(term.Field.Name)
			if !ok {
				return undefinedColumn(rel, term.Field.Name)
			}
			ob.Column = col
			n.Order = append(n.Order, ob)
		}
	}
	for key, r := range q.Ranges {
		var path []string
		if key != "" {
			path = strings.Split(key, "\x00")
		}
		n, _, err := findEmbed(root, path)
		if err != nil {
			return err
		}
		if len(path) > 0 || read {
			n.Limit, n.Offset = r.Limit, r.Offset
		}
	}
	return nil
}

func filterCond(n *ReadNode, f *Filter) (*Cond, error) {
	if len(f.Field.Path) == 0 {
		for _, e := range n.Embeds {
			if e.Key == f.Field.Name || (e.Name == f.Field.Name && e.Alias == "") {
				if f.Op != "is" || (f.Value != "null" && f.Value != "not_null") || f.Modifier != "" {
					return nil, newError(http.StatusBadRequest, CodeEmbedFilter, "Bad operator on the '%s' embedded resource", f.Field.Name).
						withDetails("Only is null or not is null filters are allowed on embedded resources")
				}
				isNull := f.Value == "null"
				if f.Negate {
					isNull = !isNull
				}
				return &Cond{Embed: e, IsNull: isNull}, nil
			}
		}
	}
	col, ok := n.Rel.Column(f.Field.Name)
	if !ok {
		return nil, undefinedColumn(n.Rel, f.Field.Name)
	}
	return &Cond{Filter: f, Column: col}, nil
}

func treeCond(n *ReadNode, t *LogicTree) (*Cond, error) {
	c := &Cond{IsGroup: true, Or: t.Or, Negate: t.Negate}
	for _, ch := range t.Children {
		var sub *Cond
		var err error
		if ch.Tree != nil {
			sub, err = treeCond(n, ch.Tree)
		} else {
			sub, err = filterCond(n, ch.Filter)
		}
		if err != nil {
			return nil, err
		}
		c.Childs = append(c.Childs, sub)
	}
	return c, nil
}

// applyRange intersects limit/offset with the Range header and validates.
func (pl Planner) applyRange(p *Plan, r *Request) error {
	n := p.Read
	if n.Limit != nil && *n.Limit < 0 {
		return newError(http.StatusRequestedRangeNotSatisfiable, CodeRange, "Requested range not satisfiable").
			withDetails("Limit should be greater than or equal to zero.")
	}
	if r.Method == http.MethodGet && (r.RangeLower != 0 || r.RangeUpper != nil) {
		if r.RangeUpper != nil && *r.RangeUpper < r.RangeLower {
			return newError(http.StatusRequestedRangeNotSatisfiable, CodeRange, "Requested range not satisfiable").
				withDetails("The lower boundary must be lower than or equal to the upper boundary in the Range header.")
		}
		lower := r.RangeLower
		var upper *int64
		if r.RangeUpper != nil {
			u := *r.RangeUpper
			upper = &u
		}
		// Intersect with limit/offset.
		if n.Offset > lower {
			lower = n.Offset
		}
		if n.Limit != nil {
			u := n.Offset + *n.Limit - 1
			if upper == nil || u < *upper {
				upper = &u
			}
		}
		n.Offset = lower
		if upper != nil {
			l := *upper - lower + 1
			if l < 0 {
				l = 0
			}
			n.Limit = &l
		} else {
			n.Limit = nil
		}
	}
	pl.capRows(n)
	p.Offset, p.Limit = n.Offset, n.Limit
	return nil
}

// planPut checks PUT's preconditions: filters are exactly the primary key
// with eq, no limit/offset.
func planPut(p *Plan, r *Request) error {
	t := p.Table
	if len(r.Query.Ranges) > 0 {
		return newError(http.StatusBadRequest, CodePutLimit, "limit/offset querystring parameters are not allowed for PUT")
	}
	bad := newError(http.StatusMethodNotAllowed, CodePutFilters, "Filters must include all and only primary key columns with 'eq' operators")
	if len(t.PK) == 0 || len(r.Query.Logic) > 0 || len(r.Query.Filters) != len(t.PK) {
		return bad
	}
	vals := map[string]string{}
	for _, f := range r.Query.Filters {
		if len(f.Path) > 0 || len(f.Field.Path) > 0 || f.Op != "eq" || f.Negate || f.Modifier != "" {
			return bad
		}
		vals[f.Field.Name] = f.Value
	}
	for _, k := range t.PK {
		v, ok := vals[k]
		if !ok {
			return bad
		}
		p.Mutation.PKValues = append(p.Mutation.PKValues, v)
	}
	return nil
}

// decodeRows reads a write's body into a JSON array (insert) or object
// (update) and the columns it sets.
func decodeRows(r *Request, t *Table, insert bool) ([]byte, []*Column, error) {
	body := r.Body
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(r.ContentType, ";", 2)[0]))
	switch mt {
	case "", "application/json", "application/vnd.pgrst.object+json", "application/vnd.pgrst.object":
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, nil, bodyError("Empty or invalid form data")
		}
		obj := map[string]string{}
		for k, v := range vals {
			obj[k] = v[len(v)-1]
		}
		body, _ = json.Marshal(obj)
	case "text/csv":
		b, err := csvToJSON(body)
		if err != nil {
			return nil, nil, err
		}
		body = b
	default:
		return nil, nil, bodyError("Content-Type not acceptable: %s", mt)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, nil, bodyError("Empty or invalid json")
	}
	var objs []map[string]json.RawMessage
	isArray := body[0] == '['
	if isArray {
		if !insert {
			// PATCH takes an object; PostgREST applies the first element.
			return nil, nil, bodyError("Empty or invalid json")
		}
		if err := json.Unmarshal(body, &objs); err != nil {
			return nil, nil, bodyError("Empty or invalid json").withDetails(err.Error())
		}
	} else {
		var o map[string]json.RawMessage
		if err := json.Unmarshal(body, &o); err != nil || o == nil {
			return nil, nil, bodyError("Empty or invalid json")
		}
		objs = []map[string]json.RawMessage{o}
	}
	var names []string
	if r.Query.Columns != nil {
		names = r.Query.Columns
	} else if len(objs) > 0 {
		for k := range objs[0] {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, o := range objs[1:] {
			if len(o) != len(names) {
				return nil, nil, bodyError("All object keys must match")
			}
			for _, k := range names {
				if _, ok := o[k]; !ok {
					return nil, nil, bodyError("All object keys must match")
				}
			}
		}
	}
	cols := make([]*Column, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		c, ok := t.Column(n)
		if !ok || c.Computed != nil {
			return nil, nil, noColumn(n, t)
		}
		if !seen[n] {
			seen[n] = true
			cols = append(cols, c)
		}
	}
	if !insert {
		return body, cols, nil
	}
	if !isArray {
		body = append(append([]byte{'['}, body...), ']')
	}
	return body, cols, nil
}

// csvToJSON turns a CSV body (header row, NULL for null) into a JSON array.
func csvToJSON(b []byte) ([]byte, error) {
	rd := csv.NewReader(bytes.NewReader(b))
	header, err := rd.Read()
	if err != nil {
		return nil, bodyError("Empty or invalid CSV")
	}
	var out []map[string]any
	for {
		rec, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bodyError("All lines must have same number of fields")
		}
		row := map[string]any{}
		for i, h := range header {
			if rec[i] == "NULL" {
				row[h] = nil
			} else {
				row[h] = rec[i]
			}
		}
		out = append(out, row)
	}
	if out == nil {
		out = []map[string]any{}
	}
	return json.Marshal(out)
}
