package postgrest

import (
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Preferences is the parsed Prefer header (all Prefer headers, comma-joined;
// the first occurrence of each preference wins).
type Preferences struct {
	Return      string // representation, minimal, headers-only
	Count       string // exact, planned, estimated
	Resolution  string // merge-duplicates, ignore-duplicates
	Missing     string // default, null
	Tx          string // commit, rollback
	Handling    string // strict, lenient
	Timezone    string
	MaxAffected *int64
	Invalid     []string
}

var prefValues = map[string][]string{
	"return":     {"representation", "minimal", "headers-only"},
	"count":      {"exact", "planned", "estimated"},
	"resolution": {"merge-duplicates", "ignore-duplicates"},
	"missing":    {"default", "null"},
	"tx":         {"commit", "rollback"},
	"handling":   {"strict", "lenient"},
}

// ParsePrefer parses Prefer headers. With handling=strict, an unknown
// preference is PGRST122.
func ParsePrefer(h http.Header) (Preferences, error) {
	var p Preferences
	seen := map[string]bool{}
	for _, line := range h.Values("Prefer") {
		for _, tok := range strings.Split(line, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" {
				continue
			}
			k, v, _ := strings.Cut(tok, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if seen[k] {
				continue
			}
			valid := false
			if allowed, ok := prefValues[k]; ok {
				for _, a := range allowed {
					if a == v {
						valid = true
					}
				}
			}
			switch {
			case valid:
				seen[k] = true
				switch k {
				case "return":
					p.Return = v
				case "count":
					p.Count = v
				case "resolution":
					p.Resolution = v
				case "missing":
					p.Missing = v
				case "tx":
					p.Tx = v
				case "handling":
					p.Handling = v
				}
			case k == "timezone" && v != "":
				seen[k] = true
				p.Timezone = v
			case k == "max-affected":
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 {
					p.Invalid = append(p.Invalid, tok)
					continue
				}
				seen[k] = true
				p.MaxAffected = &n
			default:
				p.Invalid = append(p.Invalid, tok)
			}
		}
	}
	if p.Handling == "strict" && len(p.Invalid) > 0 {
		return p, newError(http.StatusBadRequest, CodePreferences, "Invalid preferences given with handling=strict").
			withDetails("Invalid preferences: " + strings.Join(p.Invalid, ", "))
	}
	return p, nil
}

// Media is a response representation.
type Media int

const (
	MediaJSON Media = iota
	MediaSingular
	MediaCSV
	MediaOpenAPI
	MediaSingularStripped
	MediaArrayStripped
)

// ContentType is the Content-Type header of the representation.
func (m Media) ContentType() string {
	switch m {
	case MediaSingular, MediaSingularStripped:
		return "application/vnd.pgrst.object+json; charset=utf-8"
	case MediaCSV:
		return "text/csv; charset=utf-8"
	case MediaOpenAPI:
		return "application/openapi+json; charset=utf-8"
	case MediaArrayStripped:
		return "application/vnd.pgrst.array+json; nulls=stripped; charset=utf-8"
	}
	return "application/json; charset=utf-8"
}

// Singular reports whether exactly one row is required.
func (m Media) Singular() bool { return m == MediaSingular || m == MediaSingularStripped }

type acceptEntry struct {
	typ    string
	params map[string]string
	q      float64
	order  int
}

// ParseAccept picks the representation from the Accept header: the first
// acceptable type by quality. root says the request is for the OpenAPI
// description at /.
func ParseAccept(accept string, root bool) (Media, error) {
	if strings.TrimSpace(accept) == "" {
		accept = "*/*"
	}
	var entries []acceptEntry
	for i, part := range strings.Split(accept, ",") {
		part = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ";"))
		if part == "" {
			continue
		}
		typ, params, err := mime.ParseMediaType(part)
		if err != nil {
			typ = strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
			params = map[string]string{}
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		entries = append(entries, acceptEntry{typ: typ, params: params, q: q, order: i})
	}
	sort.SliceStable(entries, func(a, b int) bool { return entries[a].q > entries[b].q })
	for _, e := range entries {
		if e.q <= 0 {
			continue
		}
		stripped := e.params["nulls"] == "stripped"
		switch e.typ {
		case "*/*", "application/*":
			if root {
				return MediaOpenAPI, nil
			}
			return MediaJSON, nil
		case "application/json":
			if root {
				return MediaOpenAPI, nil
			}
			return MediaJSON, nil
		case "application/openapi+json":
			if root {
				return MediaOpenAPI, nil
			}
		case "application/vnd.pgrst.object+json", "application/vnd.pgrst.object":
			if !root {
				if stripped {
					return MediaSingularStripped, nil
				}
				return MediaSingular, nil
			}
		case "application/vnd.pgrst.array+json", "application/vnd.pgrst.array":
			if !root {
				if stripped {
					return MediaArrayStripped, nil
				}
				return MediaJSON, nil
			}
		case "text/csv", "text/*":
			if !root {
				return MediaCSV, nil
			}
		}
	}
	return 0, newError(http.StatusNotAcceptable, CodeMediaType, "None of these media types are available: %s", accept)
}

var rangeHeader = regexp.MustCompile(`^([0-9]{1,18})-([0-9]{0,18})$`)

// ParseRangeHeader parses Range: 0-9 (items). ok is false when absent or not
// in that form (PostgREST ignores it then).
func ParseRangeHeader(h string) (lower int64, upper *int64, ok bool) {
	m := rangeHeader.FindStringSubmatch(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "items=")))
	if m == nil {
		return 0, nil, false
	}
	lower, _ = strconv.ParseInt(m[1], 10, 64)
	if m[2] != "" {
		u, _ := strconv.ParseInt(m[2], 10, 64)
		upper = &u
	}
	return lower, upper, true
}
