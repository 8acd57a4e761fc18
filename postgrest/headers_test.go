package postgrest

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
)

func TestParsePrefer(t *testing.T) {
	tests := []struct {
		name    string
		headers []string
		want    Preferences
		wantErr string
	}{
		{name: "comma-joined", headers: []string{"return=representation, count=exact"},
			want: Preferences{Return: "representation", Count: "exact"}},
		{name: "repeated headers, first wins", headers: []string{"return=minimal", "return=representation,tx=rollback"},
			want: Preferences{Return: "minimal", Tx: "rollback"}},
		{name: "all kinds", headers: []string{"resolution=merge-duplicates,missing=default,handling=strict,max-affected=5,timezone=UTC"},
			want: Preferences{Resolution: "merge-duplicates", Missing: "default", Handling: "strict", MaxAffected: ptr[int64](5), Timezone: "UTC"}},
		{name: "unknown ones are ignored when lenient", headers: []string{"foo=bar, count=maybe"},
			want: Preferences{Invalid: []string{"foo=bar", "count=maybe"}}},
		{name: "unknown ones fail when strict", headers: []string{"handling=strict, foo"}, wantErr: CodePreferences},
		{name: "bad max-affected when strict", headers: []string{"handling=strict,max-affected=-1"}, wantErr: CodePreferences},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrefer(http.Header{"Prefer": tt.headers})
			if tt.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseAccept(t *testing.T) {
	tests := []struct {
		accept  string
		root    bool
		want    Media
		wantErr bool
	}{
		{accept: "", want: MediaJSON},
		{accept: "*/*", want: MediaJSON},
		{accept: "application/json", want: MediaJSON},
		{accept: "application/vnd.pgrst.object+json", want: MediaSingular},
		{accept: "application/vnd.pgrst.object", want: MediaSingular},
		{accept: "application/vnd.pgrst.object+json;nulls=stripped", want: MediaSingularStripped},
		{accept: "application/vnd.pgrst.array+json;nulls=stripped", want: MediaArrayStripped},
		{accept: "text/csv", want: MediaCSV},
		{accept: "image/png, text/csv;q=0.5", want: MediaCSV},
		{accept: "text/csv;q=0.2, application/json", want: MediaJSON},
		{accept: "APPLICATION/JSON;", want: MediaJSON},
		{accept: "image/png", wantErr: true},
		{accept: "application/vnd.pgrst.plan+text; for=\"application/json\"; options=analyze;", wantErr: true},
		{accept: "*/*", root: true, want: MediaOpenAPI},
		{accept: "application/openapi+json", root: true, want: MediaOpenAPI},
		{accept: "text/csv", root: true, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseAccept(tt.accept, tt.root)
		if tt.wantErr {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeMediaType || e.Status != http.StatusNotAcceptable {
				t.Errorf("ParseAccept(%q, %v) err = %v, want PGRST107", tt.accept, tt.root, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseAccept(%q, %v) = %v, %v; want %v", tt.accept, tt.root, got, err, tt.want)
		}
	}
}

func TestParseRangeHeader(t *testing.T) {
	tests := []struct {
		h     string
		lower int64
		upper *int64
		ok    bool
	}{
		{h: "0-9", lower: 0, upper: ptr[int64](9), ok: true},
		{h: "10-", lower: 10, ok: true},
		{h: "items=5-6", lower: 5, upper: ptr[int64](6), ok: true},
		{h: "", ok: false},
		{h: "a-b", ok: false},
		{h: "-5", ok: false},
	}
	for _, tt := range tests {
		lower, upper, ok := ParseRangeHeader(tt.h)
		if ok != tt.ok || lower != tt.lower || !reflect.DeepEqual(upper, tt.upper) {
			t.Errorf("ParseRangeHeader(%q) = %d, %v, %v; want %d, %v, %v", tt.h, lower, upper, ok, tt.lower, tt.upper, tt.ok)
		}
	}
}
