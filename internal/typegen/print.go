package typegen

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// A small printer for TypeScript type expressions that lays them out as
// prettier does with Supabase's settings (print width 80, two-space indent,
// no semicolons): an expression stays on one line when it fits, object types
// the generator always writes expanded stay expanded, and a union that does
// not fit puts each member on its own "| " line.

const printWidth = 80

type node interface{ isNode() }

// raw is an atomic type: string, Database["public"]["Enums"]["mood"], "a".
type raw string

// union is A | B | ...
type union []node

// arrayOf is T[].
type arrayOf struct{ elem node }

// object is a type literal.
type object struct {
	props []prop
	// expand keeps it on several lines even when it would fit on one.
	expand bool
}

// tuple is [A, B]; a non-empty one is always expanded.
type tuple []node

type prop struct {
	key      string
	optional bool
	typ      node
	comment  []string
	// literal is printed as the whole member: [_ in never]: never.
	literal string
}

func (raw) isNode()     {}
func (union) isNode()   {}
func (arrayOf) isNode() {}
func (object) isNode()  {}
func (tuple) isNode()   {}

var identifier = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// quote renders s as a TypeScript string literal: in double quotes, unless
// it holds more double than single quotes (prettier's choice).
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	q := strings.TrimSuffix(b.String(), "\n")
	if strings.Count(s, `"`) <= strings.Count(s, "'") {
		return q
	}
	inner := strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
	return "'" + strings.ReplaceAll(inner, "'", `\'`) + "'"
}

func keyText(p prop) string {
	k := p.key
	if !identifier.MatchString(k) {
		k = quote(k) // prettier's quoteProps "as-needed"
	}
	if p.optional {
		return k + "?: "
	}
	return k + ": "
}

// flat renders n on one line; ok is false when n must be expanded.
func flat(n node) (string, bool) {
	switch n := n.(type) {
	case raw:
		return string(n), true
	case union:
		parts := make([]string, len(n))
		for i, m := range n {
			s, ok := flat(m)
			if !ok {
				return "", false
			}
			parts[i] = s
		}
		return strings.Join(parts, " | "), true
	case arrayOf:
		s, ok := flat(n.elem)
		if !ok {
			return "", false
		}
		if _, isUnion := n.elem.(union); isUnion {
			s = "(" + s + ")"
		}
		return s + "[]", true
	case object:
		if len(n.props) == 0 {
			return "{}", true
		}
		if n.expand {
			return "", false
		}
		parts := make([]string, len(n.props))
		for i, p := range n.props {
			if p.literal != "" {
				parts[i] = p.literal
				continue
			}
			if len(p.comment) > 0 {
				return "", false
			}
			s, ok := flat(p.typ)
			if !ok {
				return "", false
			}
			parts[i] = keyText(p) + s
		}
		return "{ " + strings.Join(parts, "; ") + " }", true
	case tuple:
		if len(n) == 0 {
			return "[]", true
		}
		return "", false
	}
	return "unknown", true
}

// render renders n starting at column col, with continuation lines
// indented by indent.
func render(n node, indent, col int) string {
	if s, ok := flat(n); ok && col+len(s) <= printWidth {
		return s
	}
	pad := strings.Repeat(" ", indent)
	switch n := n.(type) {
	case object:
		var b strings.Builder
		b.WriteString("{\n")
		for _, p := range n.props {
			b.WriteString(renderProp(p, indent+2))
			b.WriteString("\n")
		}
		b.WriteString(pad + "}")
		return b.String()
	case tuple:
		var b strings.Builder
		b.WriteString("[\n")
		for _, m := range n {
			b.WriteString(pad + "  " + render(m, indent+2, indent+2) + ",\n")
		}
		b.WriteString(pad + "]")
		return b.String()
	case arrayOf:
		if _, isUnion := n.elem.(union); isUnion {
			return "(" + render(n.elem, indent, col+1) + ")[]"
		}
		return render(n.elem, indent, col) + "[]"
	case union:
		var b strings.Builder
		for _, m := range n {
			b.WriteString("\n" + pad + "  | " + render(m, indent+4, indent+4))
		}
		return b.String()
	}
	s, _ := flat(n)
	return s
}

func renderProp(p prop, indent int) string {
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	for _, c := range p.comment {
		b.WriteString(pad + "// " + c + "\n")
	}
	if p.literal != "" {
		b.WriteString(pad + p.literal)
		return b.String()
	}
	head := pad + keyText(p)
	if u, ok := p.typ.(union); ok {
		if s, ok := flat(u); !ok || len(head)+len(s) > printWidth {
			b.WriteString(strings.TrimSuffix(head, " ") + render(u, indent, printWidth+1))
			return b.String()
		}
	}
	b.WriteString(head + render(p.typ, indent, len(head)))
	return b.String()
}
