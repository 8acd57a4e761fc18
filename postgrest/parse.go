package postgrest

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Hard caps on what one URL may ask for, so that a request cannot make the
// server build an arbitrarily large statement.
const (
	maxFilters     = 100 // horizontal filters and logic terms, all paths together
	maxSelectItems = 300 // select items, all embed levels together
	maxEmbedDepth  = 8   // nesting of embedded resources
	maxLogicDepth  = 16  // nesting of and/or trees
	maxOrderTerms  = 50
	maxQueryLen    = 16 << 10
)

// Field is a column reference with an optional JSON path: data->a->>b.
type Field struct {
	Name string
	Path []JSONStep
}

// JSONStep is one -> or ->> step of a JSON path.
type JSONStep struct {
	Text  bool // ->> (text) rather than -> (json)
	Key   string
	Index bool // Key is an array index
}

// Key is the default output name of the field: the last key of its JSON
// path, or the column name.
func (f Field) Key() string {
	for i := len(f.Path) - 1; i >= 0; i-- {
		if !f.Path[i].Index {
			return f.Path[i].Key
		}
	}
	return f.Name
}

// SelectItem is one item of select=.
type SelectItem struct {
	Star  bool
	Field Field
	Alias string
	Cast  string
	// Aggregate is count, sum, avg, min or max; Cast then applies to its
	// result and InnerCast to the column it aggregates (col::numeric.sum()).
	Aggregate string
	InnerCast string
	Embed     *Embed
}

// Embed is an embedded resource: rel!hint!inner(...), ...rel(...).
type Embed struct {
	Name   string
	Hint   string
	Inner  bool
	Spread bool
	Select []*SelectItem
}

// Filter is one horizontal filter: column=[not.]op[(modifier)].value.
type Filter struct {
	Path     []string // embed path (alias or name), empty at the root
	Field    Field
	Negate   bool
	Op       string
	Modifier string // any, all
	Lang     string // full-text search configuration
	Value    string
	List     []string // in.(...)
}

// LogicTree is or=(...) / and=(...) / not.or=(...).
type LogicTree struct {
	Path     []string
	Or       bool
	Negate   bool
	Children []LogicNode
}

// LogicNode is a filter or a nested tree.
type LogicNode struct {
	Filter *Filter
	Tree   *LogicTree
}

// OrderTerm is one term of order=.
type OrderTerm struct {
	Relation string // to-one embed: order=rel(col).desc
	Field    Field
	Dir      string // "", "asc", "desc"
	Nulls    string // "", "first", "last"
}

// Order is order= at a path.
type Order struct {
	Path  []string
	Terms []OrderTerm
}

// Range is limit/offset at a path.
type Range struct {
	Limit  *int64
	Offset int64
}

// Arg is a GET /rpc argument.
type Arg struct{ Name, Value string }

// Query is the parsed query string.
type Query struct {
	Select     []*SelectItem // nil: *
	Filters    []*Filter
	Logic      []*LogicTree
	Orders     []Order
	Ranges     map[string]*Range // by strings.Join(path, ".")
	Columns    []string
	OnConflict []string
	Args       []Arg
}

func pathKey(p []string) string { return strings.Join(p, "\x00") }

// ParseQuery parses a raw query string. rpcGet says that parameters which
// are not operator expressions are function arguments (GET /rpc/fn).
func ParseQuery(raw string, rpcGet bool) (*Query, error) {
	if len(raw) > maxQueryLen {
		return nil, newError(414, CodeParse, "query string is longer than %d bytes", maxQueryLen)
	}
	q := &Query{Ranges: map[string]*Range{}}
	nfilters := 0
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		rk, rv, ok := strings.Cut(part, "=")
		if !ok {
			continue // ?foo without a value is ignored
		}
		key, err := url.QueryUnescape(rk)
		if err != nil {
			return nil, parseError("query string", rk, "invalid percent-encoding")
		}
		val, err := url.QueryUnescape(rv)
		if err != nil {
			return nil, parseError("query string", rv, "invalid percent-encoding")
		}
		switch key {
		case "select":
			items, err := parseSelect(val)
			if err != nil {
				return nil, err
			}
			q.Select = items
			continue
		case "columns":
			cols, err := parseColumnList(val, "columns parameter")
			if err != nil {
				return nil, err
			}
			q.Columns = cols
			continue
		case "on_conflict":
			cols, err := parseColumnList(val, "on_conflict parameter")
			if err != nil {
				return nil, err
			}
			q.OnConflict = cols
			continue
		}
		path, last, err := parseKeyPath(key)
		if err != nil {
			return nil, err
		}
		switch last {
		case "order":
			terms, err := parseOrder(val)
			if err != nil {
				return nil, err
			}
			q.Orders = append(q.Orders, Order{Path: path, Terms: terms})
			continue
		case "limit", "offset":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return nil, parseError(last, val, "expecting an integer")
			}
			r := q.Ranges[pathKey(path)]
			if r == nil {
				r = &Range{}
				q.Ranges[pathKey(path)] = r
			}
			if last == "limit" {
				r.Limit = &n
			} else {
				if n < 0 {
					return nil, parseError("offset", val, "expecting a non-negative integer")
				}
				r.Offset = n
			}
			continue
		case "or", "and", "not.or", "not.and":
			tree, n, err := parseLogicParam(last, val)
			if err != nil {
				return nil, err
			}
			if nfilters += n; nfilters > maxFilters {
				return nil, tooMany("filters", maxFilters)
			}
			tree.Path = path
			q.Logic = append(q.Logic, tree)
			continue
		}
		// A filter: path.field=opexpr.
		fpath, field, err := parseFilterKey(key)
		if err != nil {
			if rpcGet {
				q.Args = append(q.Args, Arg{Name: key, Value: val})
				continue
			}
			return nil, err
		}
		f, err := parseOpExpr(val)
		if err != nil {
			if rpcGet && len(fpath) == 0 {
				q.Args = append(q.Args, Arg{Name: key, Value: val})
				continue
			}
			return nil, err
		}
		f.Path, f.Field = fpath, field
		if nfilters++; nfilters > maxFilters {
			return nil, tooMany("filters", maxFilters)
		}
		q.Filters = append(q.Filters, f)
	}
	return q, nil
}

func tooMany(what string, n int) *Error {
	return newError(400, CodeParse, "too many %s: at most %d are allowed", what, n)
}

// parseKeyPath splits a.b.order into ([a b], "order"); keys whose last
// segment is not a reserved word come back with last == "".
func parseKeyPath(key string) ([]string, string, error) {
	for _, kw := range []string{"not.or", "not.and", "order", "limit", "offset", "or", "and"} {
		if key == kw {
			return nil, kw, nil
		}
		if strings.HasSuffix(key, "."+kw) {
			prefix := strings.TrimSuffix(key, "."+kw)
			path, err := parseNamePath(prefix)
			if err != nil {
				return nil, "", err
			}
			return path, kw, nil
		}
	}
	return nil, "", nil
}

// parseNamePath parses a.b.c (names may be double-quoted).
func parseNamePath(s string) ([]string, error) {
	p := &scanner{s: s}
	var out []string
	for {
		name, ok := p.name()
		if !ok {
			return nil, parseError("tree path", s, p.expect("field name"))
		}
		out = append(out, name)
		if p.eof() {
			return out, nil
		}
		if !p.consume(".") {
			return nil, parseError("tree path", s, p.expect("\".\""))
		}
	}
}

// parseFilterKey parses rel.sub.col->a->>b.
func parseFilterKey(s string) ([]string, Field, error) {
	p := &scanner{s: s}
	var path []string
	for {
		name, ok := p.name()
		if !ok {
			return nil, Field{}, parseError("filter", s, p.expect("field name"))
		}
		if p.consume(".") {
			path = append(path, name)
			continue
		}
		steps, err := p.jsonPath("filter")
		if err != nil {
			return nil, Field{}, err
		}
		if !p.eof() {
			return nil, Field{}, parseError("filter", s, p.expect("end of input"))
		}
		if len(path) > maxEmbedDepth {
			return nil, Field{}, tooMany("embedding levels", maxEmbedDepth)
		}
		return path, Field{Name: name, Path: steps}, nil
	}
}

// Operators by name; quantifiable ones accept (any)/(all).
var operators = map[string]bool{
	"eq": true, "neq": false, "gt": true, "gte": true, "lt": true, "lte": true,
	"like": true, "ilike": true, "match": true, "imatch": true,
	"in": false, "is": false, "isdistinct": false,
	"fts": false, "plfts": false, "phfts": false, "wfts": false,
	"cs": false, "cd": false, "ov": false, "sl": false, "sr": false, "nxr": false, "nxl": false, "adj": false,
}

// parseOpExpr parses [not.]op[(modifier)].value.
func parseOpExpr(s string) (*Filter, error) {
	f := &Filter{}
	rest := s
	if strings.HasPrefix(rest, "not.") {
		f.Negate = true
		rest = rest[4:]
	}
	dot := strings.IndexByte(rest, '.')
	if dot < 0 {
		return nil, parseError("filter", s, "unexpected end of input expecting operator (eq, gt, ...)")
	}
	op, value := rest[:dot], rest[dot+1:]
	if i := strings.IndexByte(op, '('); i >= 0 && strings.HasSuffix(op, ")") {
		arg := op[i+1 : len(op)-1]
		op = op[:i]
		switch op {
		case "fts", "plfts", "phfts", "wfts":
			if !isPlainName(arg) {
				return nil, parseError("filter", s, "expecting a text search configuration name")
			}
			f.Lang = arg
		default:
			if arg != "any" && arg != "all" {
				return nil, parseError("filter", s, "expecting \"any\" or \"all\"")
			}
			if !operators[op] {
				return nil, parseError("filter", s, fmt.Sprintf("operator %s does not accept (any)/(all)", op))
			}
			f.Modifier = arg
		}
	}
	if _, ok := operators[op]; !ok {
		return nil, parseError("filter", s, fmt.Sprintf("unexpected %q expecting \"not\" or operator (eq, gt, ...)", op))
	}
	f.Op = op
	switch {
	case op == "in":
		list, err := parseInList(value)
		if err != nil {
			return nil, parseError("filter", s, err.Error())
		}
		f.List = list
	case op == "is":
		switch strings.ToLower(value) {
		case "null", "not_null", "true", "false", "unknown":
			f.Value = strings.ToLower(value)
		default:
			return nil, parseError("filter", s, "expecting null, not_null, true, false or unknown")
		}
	case f.Modifier != "":
		if !strings.HasPrefix(value, "{") || !strings.HasSuffix(value, "}") {
			return nil, parseError("filter", s, "expecting a list of values like {a,b}")
		}
		f.Value = value
		if op == "like" || op == "ilike" {
			f.Value = strings.ReplaceAll(value, "*", "%")
		}
	default:
		f.Value = value
		if op == "like" || op == "ilike" {
			f.Value = strings.ReplaceAll(value, "*", "%")
		}
	}
	return f, nil
}

// parseInList parses (a,b,"c,d").
func parseInList(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
		return nil, fmt.Errorf("expecting a list of values like (a,b)")
	}
	inner := s[1 : len(s)-1]
	if strings.TrimSpace(inner) == "" {
		return []string{}, nil
	}
	return splitValues(inner)
}

// splitValues splits a,b,"c,d" on commas outside double quotes, unquoting.
func splitValues(s string) ([]string, error) {
	var out []string
	var b strings.Builder
	quoted, inQuotes := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuotes && c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			inQuotes = !inQuotes
			quoted = true
		case c == ',' && !inQuotes:
			out = append(out, finishValue(b.String(), quoted))
			b.Reset()
			quoted = false
		default:
			b.WriteByte(c)
		}
	}
	if inQuotes {
		return nil, fmt.Errorf("unterminated double quote")
	}
	return append(out, finishValue(b.String(), quoted)), nil
}

func finishValue(s string, quoted bool) string {
	if quoted {
		return s
	}
	return strings.TrimSpace(s)
}

// parseLogicParam parses the value of or=/and=/not.or=/not.and=.
func parseLogicParam(kw, val string) (*LogicTree, int, error) {
	tree := &LogicTree{Or: strings.HasSuffix(kw, "or"), Negate: strings.HasPrefix(kw, "not.")}
	if len(val) < 2 || val[0] != '(' || val[len(val)-1] != ')' {
		return nil, 0, parseError("logic tree", val, "expecting \"(\"")
	}
	n, err := parseLogicChildren(tree, val[1:len(val)-1], val, 1)
	return tree, n, err
}

func parseLogicChildren(tree *LogicTree, inner, whole string, depth int) (int, error) {
	if depth > maxLogicDepth {
		return 0, tooMany("logic tree levels", maxLogicDepth)
	}
	terms, err := splitTop(inner)
	if err != nil {
		return 0, parseError("logic tree", whole, err.Error())
	}
	count := 0
	for _, term := range terms {
		term = strings.TrimSpace(term)
		neg := false
		t := term
		if strings.HasPrefix(t, "not.") {
			neg, t = true, t[4:]
		}
		if (strings.HasPrefix(t, "or(") || strings.HasPrefix(t, "and(")) && strings.HasSuffix(t, ")") {
			isOr := strings.HasPrefix(t, "or(")
			open := strings.IndexByte(t, '(')
			sub := &LogicTree{Or: isOr, Negate: neg}
			n, err := parseLogicChildren(sub, t[open+1:len(t)-1], whole, depth+1)
			if err != nil {
				return 0, err
			}
			count += n
			tree.Children = append(tree.Children, LogicNode{Tree: sub})
			continue
		}
		f, err := parseLogicTerm(term)
		if err != nil {
			return 0, parseError("logic tree", whole, err.Error())
		}
		count++
		tree.Children = append(tree.Children, LogicNode{Filter: f})
	}
	if len(tree.Children) == 0 {
		return 0, parseError("logic tree", whole, "expecting at least one term")
	}
	return count, nil
}

// parseLogicTerm parses field.op.value inside a logic tree; the field may be
// an embed name followed by is.null (rel.is.null, rel.not.is.null).
func parseLogicTerm(term string) (*Filter, error) {
	p := &scanner{s: term}
	name, ok := p.name()
	if !ok {
		return nil, fmt.Errorf("%s", p.expect("field name"))
	}
	steps, err := p.jsonPath("logic tree")
	if err != nil {
		return nil, fmt.Errorf("bad JSON path in %q", term)
	}
	if !p.consume(".") {
		return nil, fmt.Errorf("%s", p.expect("\".\""))
	}
	f, err := parseOpExpr(unquoteLogicValue(p.s[p.i:]))
	if err != nil {
		return nil, fmt.Errorf("%s", err.(*Error).Details)
	}
	f.Field = Field{Name: name, Path: steps}
	return f, nil
}

// unquoteLogicValue removes the double quotes around the value part of
// op.value inside logic trees ("[18,21)" -> [18,21)).
func unquoteLogicValue(s string) string {
	neg := ""
	if strings.HasPrefix(s, "not.") {
		neg, s = "not.", s[4:]
	}
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return neg + s
	}
	op, v := s[:dot], s[dot+1:]
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && !strings.HasPrefix(op, "in") {
		v = strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`)
	}
	return neg + op + "." + v
}

// splitTop splits on commas outside quotes, parentheses and braces.
func splitTop(s string) ([]string, error) {
	var out []string
	depth, brace, start := 0, 0, 0
	inQuotes := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuotes && c == '\\':
			i++
		case c == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case c == '(':
			depth++
		case c == ')':
			if depth--; depth < 0 {
				return nil, fmt.Errorf("unbalanced parentheses")
			}
		case c == '{':
			brace++
		case c == '}':
			brace--
		case c == ',' && depth == 0 && brace <= 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if inQuotes || depth != 0 {
		return nil, fmt.Errorf("unbalanced quotes or parentheses")
	}
	return append(out, s[start:]), nil
}

// parseOrder parses order=a.desc.nullslast,rel(b).asc,c->>k.
func parseOrder(s string) ([]OrderTerm, error) {
	parts, err := splitTop(s)
	if err != nil {
		return nil, parseError("order", s, err.Error())
	}
	if len(parts) > maxOrderTerms {
		return nil, tooMany("order terms", maxOrderTerms)
	}
	terms := make([]OrderTerm, 0, len(parts))
	for _, part := range parts {
		p := &scanner{s: strings.TrimSpace(part)}
		name, ok := p.name()
		if !ok {
			return nil, parseError("order", s, p.expect("field name"))
		}
		var t OrderTerm
		if p.consume("(") {
			col, ok := p.name()
			if !ok {
				return nil, parseError("order", s, p.expect("field name"))
			}
			steps, err := p.jsonPath("order")
			if err != nil {
				return nil, err
			}
			if !p.consume(")") {
				return nil, parseError("order", s, p.expect("\")\""))
			}
			t.Relation, t.Field = name, Field{Name: col, Path: steps}
		} else {
			steps, err := p.jsonPath("order")
			if err != nil {
				return nil, err
			}
			t.Field = Field{Name: name, Path: steps}
		}
		for p.consume(".") {
			word := p.word()
			switch {
			case (word == "asc" || word == "desc") && t.Dir == "" && t.Nulls == "":
				t.Dir = word
			case (word == "nullsfirst" || word == "nullslast") && t.Nulls == "":
				t.Nulls = strings.TrimPrefix(word, "nulls")
			default:
				return nil, parseError("order", s, "unexpected \""+word+"\" expecting \"asc\", \"desc\", \"nullsfirst\" or \"nullslast\"")
			}
		}
		if !p.eof() {
			return nil, parseError("order", s, p.expect("\",\" or end of input"))
		}
		terms = append(terms, t)
	}
	return terms, nil
}

// parseColumnList parses columns=a,"b c" and on_conflict=a,b.
func parseColumnList(s, what string) ([]string, error) {
	var out []string
	p := &scanner{s: s}
	for {
		p.spaces()
		name, ok := p.name()
		if !ok {
			return nil, parseError(what, s, p.expect("field name"))
		}
		out = append(out, name)
		p.spaces()
		if p.eof() {
			return out, nil
		}
		if !p.consume(",") {
			return nil, parseError(what, s, p.expect("\",\""))
		}
		if len(out) > 1600 {
			return nil, tooMany("columns", 1600)
		}
	}
}

// parseSelect parses select=.
func parseSelect(s string) ([]*SelectItem, error) {
	p := &scanner{s: s}
	count := 0
	items, err := p.selectList(0, &count)
	if err != nil {
		return nil, err
	}
	if !p.eof() {
		return nil, parseError("select parameter", s, p.expect("\",\" or end of input"))
	}
	return items, nil
}

// scanner is the character-level parser shared by the grammars above.
type scanner struct {
	s string
	i int
}

func (p *scanner) eof() bool { return p.i >= len(p.s) }

func (p *scanner) consume(tok string) bool {
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *scanner) spaces() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *scanner) expect(what string) string {
	if p.eof() {
		return "unexpected end of input expecting " + what
	}
	return fmt.Sprintf("unexpected %q at column %d expecting %s", p.s[p.i], p.i+1, what)
}

func isNameChar(c byte) bool {
	return c == '_' || c == ' ' || c == '$' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
}

// name reads a field name: runs of [A-Za-z0-9_ $] joined by '-' (a '-' not
// followed by '>'), or a double-quoted name with backslash escapes.
func (p *scanner) name() (string, bool) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		for j := p.i + 1; j < len(p.s); j++ {
			switch c := p.s[j]; c {
			case '\\':
				if j+1 < len(p.s) {
					j++
					b.WriteByte(p.s[j])
				}
			case '"':
				p.i = j + 1
				if b.Len() == 0 {
					return "", false
				}
				return b.String(), true
			default:
				b.WriteByte(c)
			}
		}
		return "", false
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if isNameChar(c) {
			p.i++
			continue
		}
		if c == '-' && p.i+1 < len(p.s) && p.s[p.i+1] != '>' && isNameChar(p.s[p.i+1]) && p.i > start {
			p.i++
			continue
		}
		break
	}
	name := strings.TrimSpace(p.s[start:p.i])
	return name, name != ""
}

// word reads [a-z]+.
func (p *scanner) word() string {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= 'a' && p.s[p.i] <= 'z' {
		p.i++
	}
	return p.s[start:p.i]
}

// jsonPath reads ->key, ->>key, ->0, ->-1 steps.
func (p *scanner) jsonPath(what string) ([]JSONStep, error) {
	var steps []JSONStep
	for strings.HasPrefix(p.s[p.i:], "->") {
		p.i += 2
		step := JSONStep{}
		if p.consume(">") {
			step.Text = true
		}
		start := p.i
		if p.i < len(p.s) && p.s[p.i] == '-' {
			p.i++
		}
		digits := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		rest := p.s[p.i:]
		if p.i > digits && (rest == "" || strings.HasPrefix(rest, "->") || strings.HasPrefix(rest, "::") ||
			strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, ",") || strings.HasPrefix(rest, ")") || strings.HasPrefix(rest, ":")) {
			step.Key, step.Index = p.s[start:p.i], true
		} else {
			p.i = start
			key, ok := p.name()
			if !ok {
				return nil, parseError(what, p.s, p.expect("JSON key"))
			}
			step.Key = key
		}
		steps = append(steps, step)
		if len(steps) > 20 {
			return nil, tooMany("JSON path steps", 20)
		}
	}
	return steps, nil
}

func isPlainName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// castType reads a cast target: words of [A-Za-z0-9_] separated by single
// spaces (double precision, timestamp with time zone), plus [] suffixes.
func (p *scanner) castType() (string, bool) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			p.i++
			continue
		}
		if c == ' ' && p.i+1 < len(p.s) && p.i > start && isPlainName(p.s[p.i+1:p.i+2]) {
			p.i++
			continue
		}
		if c == '[' && strings.HasPrefix(p.s[p.i:], "[]") {
			p.i += 2
			continue
		}
		break
	}
	t := p.s[start:p.i]
	return t, t != "" && len(t) <= 64
}

var aggregates = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true}

func (p *scanner) selectList(depth int, count *int) ([]*SelectItem, error) {
	if depth > maxEmbedDepth {
		return nil, tooMany("embedding levels", maxEmbedDepth)
	}
	var items []*SelectItem
	for {
		p.spaces()
		if depth > 0 && strings.HasPrefix(p.s[p.i:], ")") && len(items) == 0 {
			return items, nil // rel() selects nothing
		}
		item, err := p.selectItem(depth, count)
		if err != nil {
			return nil, err
		}
		if *count++; *count > maxSelectItems {
			return nil, tooMany("select items", maxSelectItems)
		}
		items = append(items, item)
		p.spaces()
		if !p.consume(",") {
			return items, nil
		}
	}
}

func (p *scanner) selectItem(depth int, count *int) (*SelectItem, error) {
	if p.consume("*") {
		return &SelectItem{Star: true}, nil
	}
	spread := p.consume("...")
	item := &SelectItem{}
	name, ok := p.name()
	if !ok {
		return nil, parseError("select parameter", p.s, p.expect("field name (* or [a..z0..9_$])"))
	}
	// alias:
	if strings.HasPrefix(p.s[p.i:], ":") && !strings.HasPrefix(p.s[p.i:], "::") {
		if spread {
			return nil, parseError("select parameter", p.s, "a spread embed cannot have an alias")
		}
		p.i++
		item.Alias = name
		if name, ok = p.name(); !ok {
			return nil, parseError("select parameter", p.s, p.expect("field name"))
		}
	}
	// count() on its own.
	if name == "count" && p.consume("()") {
		item.Aggregate = "count"
		if err := p.castSuffix(item); err != nil {
			return nil, err
		}
		return item, nil
	}
	// Embed: name[!hint][!inner|!left](...)
	if strings.HasPrefix(p.s[p.i:], "!") || strings.HasPrefix(p.s[p.i:], "(") {
		e := &Embed{Name: name, Spread: spread}
		for p.consume("!") {
			w, ok := p.name()
			if !ok {
				return nil, parseError("select parameter", p.s, p.expect("embed hint"))
			}
			switch w {
			case "inner":
				e.Inner = true
			case "left":
				e.Inner = false
			default:
				if e.Hint != "" {
					return nil, parseError("select parameter", p.s, "only one hint is allowed")
				}
				e.Hint = w
			}
		}
		if !p.consume("(") {
			return nil, parseError("select parameter", p.s, p.expect("\"(\""))
		}
		children, err := p.selectList(depth+1, count)
		if err != nil {
			return nil, err
		}
		p.spaces()
		if !p.consume(")") {
			return nil, parseError("select parameter", p.s, p.expect("\")\""))
		}
		e.Select = children
		item.Embed = e
		return item, nil
	}
	if spread {
		return nil, parseError("select parameter", p.s, p.expect("\"(\" after a spread"))
	}
	steps, err := p.jsonPath("select parameter")
	if err != nil {
		return nil, err
	}
	item.Field = Field{Name: name, Path: steps}
	if err := p.castSuffix(item); err != nil {
		return nil, err
	}
	if p.consume(".") {
		agg := p.word()
		if !aggregates[agg] || !p.consume("()") {
			return nil, parseError("select parameter", p.s, "expecting an aggregate: count(), sum(), avg(), min() or max()")
		}
		item.Aggregate = agg
		item.InnerCast, item.Cast = item.Cast, ""
		if err := p.castSuffix(item); err != nil {
			return nil, err
		}
	}
	return item, nil
}

func (p *scanner) castSuffix(item *SelectItem) error {
	if !p.consume("::") {
		return nil
	}
	t, ok := p.castType()
	if !ok {
		return parseError("select parameter", p.s, p.expect("a type name"))
	}
	item.Cast = t
	return nil
}
