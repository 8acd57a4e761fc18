package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestGenHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"help"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "\n  gen ") {
		t.Errorf("pgstack help (exit %d) does not list gen:\n%s", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"gen", "--help"}, &out, &errOut); code != 0 ||
		!strings.Contains(out.String(), "pgstack gen types typescript") {
		t.Errorf("pgstack gen --help (exit %d):\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"gen", "types", "csharp"}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), `pgstack gen: gen types: unsupported language "csharp"`) {
		t.Errorf("pgstack gen types csharp (exit %d): %s", code, errOut.String())
	}
}
