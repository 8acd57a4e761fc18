package typegen

import (
	"slices"
	"strings"
	"testing"
)

// TestCollate compares with what Node 22 prints for
// names.sort((a, b) => a.localeCompare(b)).
func TestCollate(t *testing.T) {
	names := []string{"alpha", "a_very", "Zeta", "zeta", "Alpha", "a1", "a_1", "a-b", "ab", "in stock", "in_stock", "B2", "b10", "b2"}
	want := "a_1 | a_very | a-b | a1 | ab | alpha | Alpha | b10 | b2 | B2 | in stock | in_stock | zeta | Zeta"
	sortBy(names, func(s string) string { return s })
	if got := strings.Join(names, " | "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	p := []rune(punctuation)
	sorted := slices.Clone(p)
	sortBy(sorted, func(r rune) string { return string(r) })
	if !slices.Equal(p, sorted) {
		t.Errorf("punctuation sorts as %q", string(sorted))
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:        `"plain"`,
		`it's`:         `"it's"`,
		`say "hi"`:     `'say "hi"'`,
		`"it's"`:       `'"it\'s"'`,
		"tab\there":    `"tab\there"`,
		`back\slash`:   `"back\\slash"`,
		`<html>&`:      `"<html>&"`,
		"line\u2028ps": `"line\u2028ps"`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}
