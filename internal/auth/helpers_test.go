package auth_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const password = "correct horse battery"

type env struct {
	*apitest.Env
	mail *mailbox
}

// newEnv assembles a server whose auth mail goes to an in-test SMTP server.
// Sign-ups confirm at once unless a configure function says otherwise.
func newEnv(t *testing.T, configure ...func(*config.Config)) *env {
	t.Helper()
	mb := startMailbox(t)
	base := func(c *config.Config) {
		c.SiteURL = "http://app.test"
		a := &c.Auth
		a.ExternalURL = "http://pgstack.test"
		a.BcryptCost = 4
		a.MailerAutoconfirm = true
		a.AnonymousUsers = true
		a.SMTPHost, a.SMTPPort, a.SMTPAdminEmail = "127.0.0.1", mb.addr.Port, "auth@pgstack.test"
		a.SMTPMaxFrequency = 0
	}
	e := apitest.New(t, append([]func(*config.Config){base}, configure...)...)
	return &env{Env: e, mail: mb}
}

// headers are what supabase-js sends: the anon key, a bearer token (the anon
// key when token is empty) and the API version.
func (e *env) headers(token string) map[string]string {
	if token == "" {
		token = e.AnonKey
	}
	return map[string]string{
		"apikey": e.AnonKey, "Authorization": "Bearer " + token,
		"Content-Type": "application/json", "X-Supabase-Api-Version": "2024-01-01",
	}
}

// call runs one scenario (checked against the spec like every other) and
// returns its JSON body.
func (e *env) call(t *testing.T, s apitest.Scenario) map[string]any {
	t.Helper()
	var out map[string]any
	check := s.Check
	s.Check = func(t *testing.T, res *http.Response, body []byte) {
		if len(body) > 0 {
			if err := json.Unmarshal(body, &out); err != nil {
				t.Errorf("body is not a JSON object: %s", body)
			}
		}
		if check != nil {
			check(t, res, body)
		}
	}
	if s.Headers == nil {
		s.Headers = e.headers("")
	}
	e.Run(t, s)
	return out
}

// signUp creates a confirmed user and returns the session.
func (e *env) signUp(t *testing.T, email string) map[string]any {
	t.Helper()
	return e.call(t, apitest.Scenario{
		Name: "sign up " + email, Method: "POST", URL: "/auth/v1/signup",
		Body:       `{"email":"` + email + `","password":"` + password + `","data":{"name":"Ada"}}`,
		WantStatus: 200, WantBody: []string{`"access_token"`, `"refresh_token"`},
	})
}

func (e *env) signIn(t *testing.T, email string) map[string]any {
	t.Helper()
	return e.call(t, apitest.Scenario{
		Name: "sign in " + email, Method: "POST", URL: "/auth/v1/token?grant_type=password",
		Body:       `{"email":"` + email + `","password":"` + password + `"}`,
		WantStatus: 200, WantBody: []string{`"token_type":"bearer"`},
	})
}

func (e *env) refresh(t *testing.T, token string, want int, wantBody ...string) map[string]any {
	t.Helper()
	return e.call(t, apitest.Scenario{
		Name: "refresh", Method: "POST", URL: "/auth/v1/token?grant_type=refresh_token",
		Body: `{"refresh_token":"` + token + `"}`, WantStatus: want, WantBody: wantBody,
	})
}

func field(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = obj[p]
	}
	switch v := cur.(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}
