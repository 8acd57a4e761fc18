package runtimes

import (
	"strings"
	"testing"
)

func TestFunctionPath(t *testing.T) {
	for _, tc := range []struct {
		in, name, want string
		ok             bool
	}{
		{"/functions/v1/hello", "hello", "/hello", true},
		{"/functions/v1/hello/", "hello", "/hello/", true},
		{"/functions/v1/hello/users/1", "hello", "/hello/users/1", true},
		{"/functions/v1/hello/a/./b/../c", "hello", "/hello/a/c", true},
		{"/functions/v1/hello/..", "hello", "", false},
		{"/functions/v1/hello/../other", "hello", "", false},
		{"/functions/v1/hello/../hello-admin", "hello", "", false},
		{"/functions/v1/hello//x", "hello", "/hello/x", true},
		{"/other/hello", "hello", "", false},
	} {
		got, ok := functionPath(tc.in, tc.name)
		if got != tc.want || ok != tc.ok {
			t.Errorf("functionPath(%q, %q) = %q, %v; want %q, %v", tc.in, tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzFunctionPath: whatever the request path, an accepted one stays below
// /<name> and has no dot segments.
func FuzzFunctionPath(f *testing.F) {
	for _, s := range []string{"/hello", "/hello/../x", "/hello/./a", "//hello", "/hello/%2e%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rest string) {
		got, ok := functionPath("/functions/v1"+rest, "hello")
		if !ok {
			return
		}
		if got != "/hello" && !strings.HasPrefix(got, "/hello/") {
			t.Fatalf("%q -> %q leaves the function", rest, got)
		}
		for _, seg := range strings.Split(got, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("%q -> %q keeps a dot segment", rest, got)
			}
		}
	})
}
