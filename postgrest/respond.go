package postgrest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Result is the single row of a plan's statement.
type Result struct {
	Total           *int64
	PageTotal       int64
	Body            []byte
	ResponseHeaders *string
	ResponseStatus  *string
	Inserted        *int32
	Location        []byte
}

// Check says whether the result may be committed and answered: singular
// requests need exactly one row, max-affected caps the rows, PUT needs its
// row. It returns the error response otherwise (the transaction rolls back).
func Check(p *Plan, res *Result) *Error {
	if p.Media.Singular() && res.PageTotal != 1 && !(p.Action == ActionCall && p.Call.Scalar && !p.Call.Fn.RetSet) {
		return newError(http.StatusNotAcceptable, CodeSingular, "Cannot coerce the result to a single JSON object").
			withDetails(fmt.Sprintf("The result contains %d rows", res.PageTotal))
	}
	if p.Action == ActionPut && res.PageTotal != 1 {
		return newError(http.StatusBadRequest, CodePutPayload, "Payload values do not match URL in primary key column(s)")
	}
	if p.Prefs.Handling == "strict" && p.Prefs.MaxAffected != nil && res.PageTotal > *p.Prefs.MaxAffected &&
		(p.Action == ActionUpdate || p.Action == ActionDelete || p.Action == ActionCall) {
		return newError(http.StatusBadRequest, CodeMaxAffected, "Query result exceeds max-affected preference constraint").
			withDetails(fmt.Sprintf("The query affects %d rows", res.PageTotal))
	}
	return nil
}

// NeedsDecision says whether the transaction must stay open until the
// result was checked (it may roll back).
func NeedsDecision(p *Plan) bool {
	if p.ReadOnly && p.Prefs.Tx != "rollback" {
		return false
	}
	return p.Media.Singular() || p.Action == ActionPut || p.Prefs.Tx == "rollback" ||
		(p.Prefs.Handling == "strict" && p.Prefs.MaxAffected != nil)
}

// Respond writes the HTTP response of a checked result.
func Respond(w http.ResponseWriter, p *Plan, res *Result, profile string) error {
	h := w.Header()
	status := http.StatusOK
	if profile != "" {
		h.Set("Content-Profile", profile)
	}
	if applied := preferenceApplied(p); applied != "" {
		h.Set("Preference-Applied", applied)
	}
	total := "*"
	if res.Total != nil {
		total = strconv.FormatInt(*res.Total, 10)
	}
	writeBody := true
	switch p.Action {
	case ActionRead, ActionCall:
		lower := p.Offset
		upper := lower + res.PageTotal - 1
		rng := "*"
		if res.PageTotal > 0 {
			rng = fmt.Sprintf("%d-%d", lower, upper)
		}
		if res.Total != nil {
			switch {
			case lower > *res.Total && !(p.Limit != nil && *p.Limit == 0):
				e := newError(http.StatusRequestedRangeNotSatisfiable, CodeRange, "Requested range not satisfiable").
					withDetails(fmt.Sprintf("An offset of %d was requested, but there are only %d rows.", lower, *res.Total))
				h.Set("Content-Range", "*/"+total)
				return e
			case res.PageTotal < *res.Total:
				status = http.StatusPartialContent
			}
		}
		h.Set("Content-Range", rng+"/"+total)
		if p.Action == ActionCall && p.Call.Fn.RetVoid {
			status, writeBody = http.StatusNoContent, false
			h.Del("Content-Range")
		}
	case ActionInsert:
		status = http.StatusCreated
		if p.Mutation.Resolution == "merge-duplicates" && res.Inserted != nil && *res.Inserted == 0 && res.PageTotal > 0 {
			status = http.StatusOK
		}
		h.Set("Content-Range", "*/"+total)
		if loc := location(p, res); loc != "" {
			h.Set("Location", loc)
		}
		writeBody = p.Return == "representation"
	case ActionUpdate:
		rng := "*"
		if res.PageTotal > 0 {
			rng = fmt.Sprintf("0-%d", res.PageTotal-1)
		}
		h.Set("Content-Range", rng+"/"+total)
		status = http.StatusNoContent
		if p.Return == "representation" {
			status = http.StatusOK
		} else {
			writeBody = false
		}
	case ActionDelete:
		h.Set("Content-Range", "*/"+total)
		status = http.StatusNoContent
		if p.Return == "representation" {
			status = http.StatusOK
		} else {
			writeBody = false
		}
	case ActionPut:
		status = http.StatusNoContent
		writeBody = false
		if p.Return == "representation" {
			writeBody = true
			status = http.StatusOK
			if res.Inserted != nil && *res.Inserted > 0 {
				status = http.StatusCreated
			}
		}
	}
	if err := applyGUCHeaders(h, res, &status); err != nil {
		return err
	}
	if p.Head {
		writeBody = false
		if p.Action == ActionRead || p.Action == ActionCall {
			h.Set("Content-Type", p.Media.ContentType())
		}
	}
	if writeBody {
		h.Set("Content-Type", p.Media.ContentType())
	}
	if !writeBody && status != http.StatusNoContent {
		h.Set("Content-Length", "0")
	}
	w.WriteHeader(status)
	if writeBody && !p.Head {
		_, _ = w.Write(res.Body)
	}
	return nil
}

// applyGUCHeaders applies response.headers and response.status set by SQL.
func applyGUCHeaders(h http.Header, res *Result, status *int) error {
	if res.ResponseHeaders != nil {
		var list []map[string]string
		if err := json.Unmarshal([]byte(*res.ResponseHeaders), &list); err != nil {
			return newError(http.StatusInternalServerError, "PGRST111",
				"response.headers guc must be a JSON array composed of objects with a single key and a string value")
		}
		for _, m := range list {
			if len(m) != 1 {
				return newError(http.StatusInternalServerError, "PGRST111",
					"response.headers guc must be a JSON array composed of objects with a single key and a string value")
			}
			for k, v := range m {
				if strings.ContainsAny(k+v, "\r\n") {
					return newError(http.StatusInternalServerError, "PGRST111",
						"response.headers guc must be a JSON array composed of objects with a single key and a string value")
				}
				h.Set(k, v)
			}
		}
	}
	if res.ResponseStatus != nil {
		n, err := strconv.Atoi(*res.ResponseStatus)
		if err != nil || n < 100 || n > 599 {
			return newError(http.StatusInternalServerError, "PGRST112", "response.status guc must be a valid status code")
		}
		*status = n
	}
	return nil
}

func location(p *Plan, res *Result) string {
	if p.Return != "headers-only" || res.PageTotal != 1 || len(res.Location) == 0 {
		return ""
	}
	var vals map[string]any
	if err := json.Unmarshal(res.Location, &vals); err != nil {
		return ""
	}
	var parts []string
	for _, k := range p.Table.PK {
		v, ok := vals[k]
		if !ok || v == nil {
			parts = append(parts, url.QueryEscape(k)+"=is.null")
			continue
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		parts = append(parts, url.QueryEscape(k)+"=eq."+url.QueryEscape(s))
	}
	return "/" + p.Table.Name + "?" + strings.Join(parts, "&")
}

// preferenceApplied lists the honoured preferences in PostgREST's order.
func preferenceApplied(p *Plan) string {
	var out []string
	write := p.Action != ActionRead && p.Action != ActionCall
	if p.Action == ActionInsert && p.Mutation.Resolution != "" {
		out = append(out, "resolution="+p.Mutation.Resolution)
	}
	if write && p.Prefs.Missing != "" {
		out = append(out, "missing="+p.Prefs.Missing)
	}
	if write && p.Prefs.Return != "" {
		out = append(out, "return="+p.Prefs.Return)
	}
	if p.Prefs.Count != "" {
		out = append(out, "count="+p.Prefs.Count)
	}
	if p.Prefs.Tx != "" {
		out = append(out, "tx="+p.Prefs.Tx)
	}
	if p.Prefs.Handling != "" {
		out = append(out, "handling="+p.Prefs.Handling)
	}
	if p.Prefs.Timezone != "" {
		out = append(out, "timezone="+p.Prefs.Timezone)
	}
	if p.Prefs.Handling == "strict" && p.Prefs.MaxAffected != nil {
		out = append(out, "max-affected="+strconv.FormatInt(*p.Prefs.MaxAffected, 10))
	}
	return strings.Join(out, ", ")
}

// allowed lists the methods of a table for OPTIONS.
func allowed(t *Table) string {
	m := []string{"OPTIONS", "GET", "HEAD"}
	if t.Insertable {
		m = append(m, "POST")
	}
	if t.Insertable && t.Updatable && len(t.PK) > 0 {
		m = append(m, "PUT")
	}
	if t.Updatable {
		m = append(m, "PATCH")
	}
	if t.Deletable {
		m = append(m, "DELETE")
	}
	return strings.Join(m, ",")
}
