package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pgstack/pgstack/internal/apitest"
	"github.com/pgstack/pgstack/internal/config"
)

func TestPasswordSignUpAndSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sess := e.signUp(t, "Ada@Example.com")
	if field(sess, "user", "email") != "ada@example.com" || field(sess, "user", "app_metadata", "provider") != "email" ||
		field(sess, "user", "user_metadata", "name") != "Ada" || field(sess, "user", "identities") == "[]" {
		t.Errorf("sign-up session user = %v", sess["user"])
	}
	claims := decodeClaims(t, field(sess, "access_token"))
	for _, k := range []string{"sub", "role", "aud", "exp", "iat", "email", "phone", "app_metadata", "user_metadata", "session_id", "aal", "amr", "is_anonymous"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("access token lacks claim %s: %v", k, claims)
		}
	}
	if claims["role"] != "authenticated" || claims["aud"] != "authenticated" || claims["is_anonymous"] != false {
		t.Errorf("claims = %v", claims)
	}
	if r := e.refresh(t, field(sess, "refresh_token"), 200); field(r, "refresh_token") == field(sess, "refresh_token") {
		t.Error("refresh kept the refresh token; want a rotated one")
	}
	signedIn := e.signIn(t, "ada@example.com")
	access := field(signedIn, "access_token")

	e.Run(t,
		apitest.Scenario{Name: "duplicate e-mail", Method: "POST", URL: "/auth/v1/signup", Headers: e.headers(""),
			Body:       `{"email":"ada@example.com","password":"` + password + `"}`,
			WantStatus: 422, WantBody: []string{`"code":"user_already_exists"`},
			WantHeaders: map[string]string{"X-Supabase-Api-Version": "2024-01-01"}},
		apitest.Scenario{Name: "legacy error format", Method: "POST", URL: "/auth/v1/signup",
			Headers:    map[string]string{"apikey": e.AnonKey},
			Body:       `{"email":"ada@example.com","password":"` + password + `"}`,
			WantStatus: 422, WantBody: []string{`"code":422`, `"error_code":"user_already_exists"`, `"msg":"User already registered"`},
			WantHeaders: map[string]string{"X-Supabase-Api-Version": ""}},
		apitest.Scenario{Name: "weak password", Method: "POST", URL: "/auth/v1/signup", Headers: e.headers(""),
			Body:       `{"email":"bob@example.com","password":"12345"}`,
			WantStatus: 422, WantBody: []string{`"code":"weak_password"`, `"reasons":["length"]`}},
		apitest.Scenario{Name: "password past 72 bytes", Method: "POST", URL: "/auth/v1/signup", Headers: e.headers(""),
			Body:       `{"email":"bob@example.com","password":"` + strings.Repeat("x", 73) + `"}`,
			WantStatus: 400, WantBody: []string{`"code":"validation_failed"`}},
		apitest.Scenario{Name: "bad e-mail", Method: "POST", URL: "/auth/v1/signup", Headers: e.headers(""),
			Body: `{"email":"not-an-email","password":"` + password + `"}`, WantStatus: 400, WantBody: []string{`"code":"email_address_invalid"`}},
		apitest.Scenario{Name: "body is not JSON", Method: "POST", URL: "/auth/v1/signup", Headers: e.headers(""),
			Body: `{"email":`, WantStatus: 400, WantBody: []string{`"code":"bad_json"`}},
		apitest.Scenario{Name: "wrong password", Method: "POST", URL: "/auth/v1/token?grant_type=password", Headers: e.headers(""),
			Body: `{"email":"ada@example.com","password":"wrong password"}`, WantStatus: 400,
			WantBody: []string{`"code":"invalid_credentials"`, `"message":"Invalid login credentials"`}},
		apitest.Scenario{Name: "unknown e-mail", Method: "POST", URL: "/auth/v1/token?grant_type=password", Headers: e.headers(""),
			Body: `{"email":"nobody@example.com","password":"wrong password"}`, WantStatus: 400,
			WantBody: []string{`"code":"invalid_credentials"`, `"message":"Invalid login credentials"`}},
		apitest.Scenario{Name: "unknown grant type", Method: "POST", URL: "/auth/v1/token?grant_type=magic", Headers: e.headers(""),
			Body: `{}`, WantStatus: 400, WantBody: []string{`"code":"invalid_credentials"`}},
		apitest.Scenario{Name: "get user", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(access),
			WantStatus: 200, WantBody: []string{`"email":"ada@example.com"`, `"identities":[{`}},
		apitest.Scenario{Name: "get user without a user token", Method: "GET", URL: "/auth/v1/user", Headers: map[string]string{"apikey": e.AnonKey},
			WantStatus: 401, WantBody: []string{`"error_code":"no_authorization"`}},
		apitest.Scenario{Name: "get user with the anon key", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(""),
			WantStatus: 403, WantBody: []string{`"code":"bad_jwt"`}},
		apitest.Scenario{Name: "get user with a forged token", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(access + "x"),
			WantStatus: 403, WantBody: []string{`"code":"bad_jwt"`}},
		apitest.Scenario{Name: "update metadata", Method: "PUT", URL: "/auth/v1/user", Headers: e.headers(access),
			Body: `{"data":{"theme":"dark","name":null}}`, WantStatus: 200,
			WantBody: []string{`"user_metadata":{"theme":"dark"}`}},
		apitest.Scenario{Name: "same password", Method: "PUT", URL: "/auth/v1/user", Headers: e.headers(access),
			Body: `{"password":"` + password + `"}`, WantStatus: 422, WantBody: []string{`"code":"same_password"`}},
		apitest.Scenario{Name: "app_metadata needs admin", Method: "PUT", URL: "/auth/v1/user", Headers: e.headers(access),
			Body: `{"app_metadata":{"role":"admin"}}`, WantStatus: 403, WantBody: []string{`"code":"not_admin"`}},
		apitest.Scenario{Name: "bad logout scope", Method: "POST", URL: "/auth/v1/logout?scope=everywhere", Headers: e.headers(access),
			WantStatus: 400, WantBody: []string{`"code":"validation_failed"`}},
	)

	// Changing the password ends every other session and keeps this one.
	other := e.signIn(t, "ada@example.com")
	e.Run(t,
		apitest.Scenario{Name: "change password", Method: "PUT", URL: "/auth/v1/user", Headers: e.headers(access),
			Body: `{"password":"a new password"}`, WantStatus: 200},
		apitest.Scenario{Name: "other session ended by the password change", Method: "GET", URL: "/auth/v1/user",
			Headers: e.headers(field(other, "access_token")), WantStatus: 403, WantBody: []string{`"code":"session_not_found"`}},
		apitest.Scenario{Name: "this session kept", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(access), WantStatus: 200},
		apitest.Scenario{Name: "old password refused", Method: "POST", URL: "/auth/v1/token?grant_type=password", Headers: e.headers(""),
			Body: `{"email":"ada@example.com","password":"` + password + `"}`, WantStatus: 400, WantBody: []string{`"code":"invalid_credentials"`}},
		apitest.Scenario{Name: "sign out locally", Method: "POST", URL: "/auth/v1/logout?scope=local", Headers: e.headers(access), WantStatus: 204},
		apitest.Scenario{Name: "user after sign-out", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(access),
			WantStatus: 403, WantBody: []string{`"code":"session_not_found"`}},
	)
	e.refresh(t, field(signedIn, "refresh_token"), 400, `"code":"refresh_token_not_found"`)
	e.refresh(t, "short", 400, `"code":"validation_failed"`)

	// The audit trail has the sign-in, the password change and the sign-out.
	var actions []string
	rows, err := e.Pools.Owner.Query(context.Background(), `SELECT payload->>'action', ip_address FROM auth.audit_log_entries`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a, ip string
		_ = rows.Scan(&a, &ip)
		actions = append(actions, a)
		if ip != "192.0.2.1" { // httptest's client address
			t.Errorf("audit %s: ip %q, want the peer address", a, ip)
		}
	}
	got := strings.Join(actions, ",")
	for _, want := range []string{"user_signedup", "login", "token_refreshed", "user_updated_password", "logout"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit log lacks %s: %s", want, got)
		}
	}
}

func TestSignOutScopes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(t, "scopes@example.com")
	a, b, c := e.signIn(t, "scopes@example.com"), e.signIn(t, "scopes@example.com"), e.signIn(t, "scopes@example.com")
	user := func(s map[string]any, want int) apitest.Scenario {
		return apitest.Scenario{Name: "user", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(field(s, "access_token")), WantStatus: want}
	}
	e.Run(t,
		apitest.Scenario{Name: "others", Method: "POST", URL: "/auth/v1/logout?scope=others", Headers: e.headers(field(a, "access_token")), WantStatus: 204},
		user(a, 200), user(b, 403), user(c, 403),
	)
	d := e.signIn(t, "scopes@example.com")
	e.Run(t,
		apitest.Scenario{Name: "global", Method: "POST", URL: "/auth/v1/logout", Headers: e.headers(field(d, "access_token")), WantStatus: 204},
		user(a, 403), user(d, 403),
	)
}

func TestEmailConfirmation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *config.Config) { c.Auth.MailerAutoconfirm = false })
	u := e.call(t, apitest.Scenario{Name: "sign up", Method: "POST", URL: "/auth/v1/signup?redirect_to=http://app.test/welcome",
		Body: `{"email":"cy@example.com","password":"` + password + `"}`, WantStatus: 200,
		WantNotBody: []string{`"access_token"`}, WantBody: []string{`"confirmation_sent_at"`}})
	if field(u, "email") != "cy@example.com" {
		t.Fatalf("sign-up answer = %v", u)
	}
	e.Run(t, apitest.Scenario{Name: "not confirmed yet", Method: "POST", URL: "/auth/v1/token?grant_type=password", Headers: e.headers(""),
		Body: `{"email":"cy@example.com","password":"` + password + `"}`, WantStatus: 400, WantBody: []string{`"code":"email_not_confirmed"`}})

	m, ok := e.mail.last("cy@example.com")
	if !ok || m.Subject != "Confirm Your Signup" || m.Link() == "" || m.OTP() == "" {
		t.Fatalf("confirmation mail = %+v", m)
	}
	link, _ := url.Parse(m.Link())
	e.Run(t,
		apitest.Scenario{Name: "open the link", Method: "GET", URL: link.RequestURI(), WantStatus: 303,
			Check: func(t *testing.T, res *http.Response, _ []byte) {
				loc := res.Header.Get("Location")
				if !strings.HasPrefix(loc, "http://app.test/welcome#") || !strings.Contains(loc, "access_token=") || !strings.Contains(loc, "type=signup") {
					t.Errorf("Location = %s", loc)
				}
			}},
		apitest.Scenario{Name: "open the link again", Method: "GET", URL: link.RequestURI(), WantStatus: 303,
			Check: func(t *testing.T, res *http.Response, _ []byte) {
				if loc := res.Header.Get("Location"); !strings.Contains(loc, "error_code=otp_expired") {
					t.Errorf("Location = %s", loc)
				}
			}},
		apitest.Scenario{Name: "confirmed", Method: "POST", URL: "/auth/v1/token?grant_type=password", Headers: e.headers(""),
			Body: `{"email":"cy@example.com","password":"` + password + `"}`, WantStatus: 200},
		// A repeated sign-up answers like a new one, with no identities, and sends nothing.
		apitest.Scenario{Name: "repeated sign-up", Method: "POST", URL: "/auth/v1/signup", Headers: e.headers(""),
			Body: `{"email":"cy@example.com","password":"` + password + `"}`, WantStatus: 200,
			WantBody: []string{`"identities":[]`}, WantNotBody: []string{`"access_token"`}},
	)
	if n := e.mail.count("cy@example.com"); n != 1 {
		t.Errorf("%d mails to cy@example.com, want 1", n)
	}

	// Resend: a new confirmation for an unconfirmed address, nothing for a
	// confirmed or unknown one.
	e.call(t, apitest.Scenario{Name: "sign up another", Method: "POST", URL: "/auth/v1/signup",
		Body: `{"email":"dot@example.com","password":"` + password + `"}`, WantStatus: 200})
	first, _ := e.mail.last("dot@example.com")
	for _, addr := range []string{"dot@example.com", "cy@example.com", "nobody@example.com"} {
		e.call(t, apitest.Scenario{Name: "resend to " + addr, Method: "POST", URL: "/auth/v1/resend",
			Body: `{"type":"signup","email":"` + addr + `"}`, WantStatus: 200, WantBody: []string{`{}`}})
	}
	second, _ := e.mail.last("dot@example.com")
	if e.mail.count("dot@example.com") != 2 || second.OTP() == first.OTP() && second.Link() == first.Link() {
		t.Errorf("resend sent %d mails to dot@example.com, want a second, new one", e.mail.count("dot@example.com"))
	}
	if e.mail.count("cy@example.com") != 1 || e.mail.count("nobody@example.com") != 0 {
		t.Error("resend mailed a confirmed or unknown address")
	}
	e.call(t, apitest.Scenario{Name: "resend sms", Method: "POST", URL: "/auth/v1/resend",
		Body: `{"type":"sms","phone":"+15550100"}`, WantStatus: 400, WantBody: []string{`"code":"phone_provider_disabled"`}})
	// The first code no longer works; the new one does.
	e.call(t, apitest.Scenario{Name: "old code", Method: "POST", URL: "/auth/v1/verify",
		Body: `{"type":"signup","email":"dot@example.com","token":"` + first.OTP() + `"}`, WantStatus: 403})
	e.call(t, apitest.Scenario{Name: "new code", Method: "POST", URL: "/auth/v1/verify",
		Body: `{"type":"signup","email":"dot@example.com","token":"` + second.OTP() + `"}`, WantStatus: 200})
}

func TestRecoveryAndMagicLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(t, "dee@example.com")
	e.call(t, apitest.Scenario{Name: "recover", Method: "POST", URL: "/auth/v1/recover", Body: `{"email":"dee@example.com"}`, WantStatus: 200})
	e.call(t, apitest.Scenario{Name: "recover an unknown address", Method: "POST", URL: "/auth/v1/recover", Body: `{"email":"nobody@example.com"}`, WantStatus: 200})
	if e.mail.count("nobody@example.com") != 0 {
		t.Error("mail sent to an unknown address")
	}
	m, _ := e.mail.last("dee@example.com")
	link, _ := url.Parse(m.Link())
	hash := link.Query().Get("token")
	sess := e.call(t, apitest.Scenario{Name: "verify the token hash", Method: "POST", URL: "/auth/v1/verify",
		Body: `{"type":"recovery","token_hash":"` + hash + `"}`, WantStatus: 200})
	if !strings.Contains(field(decodeClaims(t, field(sess, "access_token")), "amr"), `"recovery"`) {
		t.Errorf("amr of a recovery session = %s", field(decodeClaims(t, field(sess, "access_token")), "amr"))
	}
	e.call(t, apitest.Scenario{Name: "token hash is single-use", Method: "POST", URL: "/auth/v1/verify",
		Body: `{"type":"recovery","token_hash":"` + hash + `"}`, WantStatus: 403, WantBody: []string{`"code":"otp_expired"`}})

	// Magic link / e-mail OTP, for a known and a new address.
	e.call(t, apitest.Scenario{Name: "otp for a known user", Method: "POST", URL: "/auth/v1/otp", Body: `{"email":"dee@example.com"}`, WantStatus: 200})
	m, _ = e.mail.last("dee@example.com")
	if m.Subject != "Your Magic Link" {
		t.Errorf("subject = %q", m.Subject)
	}
	e.call(t, apitest.Scenario{Name: "wrong code", Method: "POST", URL: "/auth/v1/verify",
		Body: `{"type":"email","email":"dee@example.com","token":"000000x"}`, WantStatus: 403, WantBody: []string{`"code":"otp_expired"`}})
	e.call(t, apitest.Scenario{Name: "verify the code", Method: "POST", URL: "/auth/v1/verify",
		Body: `{"type":"email","email":"dee@example.com","token":"` + m.OTP() + `"}`, WantStatus: 200, WantBody: []string{`"access_token"`}})
	e.call(t, apitest.Scenario{Name: "otp without sign-ups", Method: "POST", URL: "/auth/v1/otp",
		Body: `{"email":"new@example.com","create_user":false}`, WantStatus: 422, WantBody: []string{`"code":"otp_disabled"`}})
	e.call(t, apitest.Scenario{Name: "otp signs a new address up", Method: "POST", URL: "/auth/v1/otp", Body: `{"email":"new@example.com"}`, WantStatus: 200})
	m, _ = e.mail.last("new@example.com")
	e.call(t, apitest.Scenario{Name: "verify the new user's code", Method: "POST", URL: "/auth/v1/verify",
		Body: `{"type":"email","email":"new@example.com","token":"` + m.OTP() + `"}`, WantStatus: 200, WantBody: []string{`"email_confirmed_at"`}})
}

func TestPKCE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(t, "eve@example.com")
	verifier := strings.Repeat("v", 50)
	challenge := s256(verifier)
	e.call(t, apitest.Scenario{Name: "recover with PKCE", Method: "POST", URL: "/auth/v1/recover?redirect_to=http://app.test/reset",
		Body: `{"email":"eve@example.com","code_challenge":"` + challenge + `","code_challenge_method":"s256"}`, WantStatus: 200})
	m, _ := e.mail.last("eve@example.com")
	link, _ := url.Parse(m.Link())
	if !strings.HasPrefix(link.Query().Get("token"), "pkce_") {
		t.Fatalf("PKCE link token = %q", link.Query().Get("token"))
	}
	var code string
	e.Run(t, apitest.Scenario{Name: "open the link", Method: "GET", URL: link.RequestURI(), WantStatus: 303,
		Check: func(t *testing.T, res *http.Response, _ []byte) {
			loc, _ := url.Parse(res.Header.Get("Location"))
			code = loc.Query().Get("code")
			if loc.Path != "/reset" || code == "" {
				t.Errorf("Location = %s", loc)
			}
		}})
	exchange := func(name, verifier string, want int, body ...string) apitest.Scenario {
		return apitest.Scenario{Name: name, Method: "POST", URL: "/auth/v1/token?grant_type=pkce", Headers: e.headers(""),
			Body: `{"auth_code":"` + code + `","code_verifier":"` + verifier + `"}`, WantStatus: want, WantBody: body}
	}
	e.Run(t,
		exchange("wrong verifier", strings.Repeat("w", 50), 400, `"code":"bad_code_verifier"`),
		exchange("exchange", verifier, 200, `"access_token"`),
		exchange("code is single-use", verifier, 404, `"code":"flow_state_not_found"`),
		apitest.Scenario{Name: "missing verifier", Method: "POST", URL: "/auth/v1/token?grant_type=pkce", Headers: e.headers(""),
			Body: `{"auth_code":"x"}`, WantStatus: 400, WantBody: []string{"both auth code and code verifier should be non-empty"}},
		apitest.Scenario{Name: "bad challenge", Method: "POST", URL: "/auth/v1/recover", Headers: e.headers(""),
			Body: `{"email":"eve@example.com","code_challenge":"short","code_challenge_method":"s256"}`, WantStatus: 400},
	)
}

func TestAnonymousSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.call(t, apitest.Scenario{Name: "anonymous", Method: "POST", URL: "/auth/v1/signup", Body: `{"data":{}}`, WantStatus: 200,
		WantBody: []string{`"is_anonymous":true`}})
	if c := decodeClaims(t, field(s, "access_token")); c["is_anonymous"] != true || !strings.Contains(field(c, "amr"), "anonymous") {
		t.Errorf("claims = %v", c)
	}
	// An anonymous user becomes a permanent one by adding an e-mail address.
	e.call(t, apitest.Scenario{Name: "add an e-mail", Method: "PUT", URL: "/auth/v1/user", Headers: e.headers(field(s, "access_token")),
		Body: `{"email":"anon@example.com"}`, WantStatus: 200, WantBody: []string{`"email":"anon@example.com"`, `"is_anonymous":false`}})

	off := newEnv(t, func(c *config.Config) { c.Auth.AnonymousUsers = false })
	off.call(t, apitest.Scenario{Name: "disabled", Method: "POST", URL: "/auth/v1/signup", Body: `{}`, WantStatus: 422,
		WantBody: []string{`"code":"anonymous_provider_disabled"`}})
}

func TestAdminAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	user := e.signUp(t, "user@example.com")
	svc := e.headers(e.ServiceKey)
	created := e.call(t, apitest.Scenario{Name: "create", Method: "POST", URL: "/auth/v1/admin/users", Headers: svc,
		Body:       `{"email":"made@example.com","password":"` + password + `","email_confirm":true,"app_metadata":{"plan":"pro"},"user_metadata":{"n":1}}`,
		WantStatus: 200, WantBody: []string{`"email_confirmed_at"`, `"plan":"pro"`, `"provider":"email"`}})
	id := field(created, "id")
	for i := range 3 {
		e.call(t, apitest.Scenario{Name: "create more", Method: "POST", URL: "/auth/v1/admin/users", Headers: svc,
			Body: `{"email":"more` + string(rune('a'+i)) + `@example.com"}`, WantStatus: 200})
	}
	e.Run(t,
		apitest.Scenario{Name: "a user token is not admin", Method: "GET", URL: "/auth/v1/admin/users", Headers: e.headers(field(user, "access_token")),
			WantStatus: 403, WantBody: []string{`"code":"not_admin"`}},
		apitest.Scenario{Name: "the anon key is not admin", Method: "GET", URL: "/auth/v1/admin/users", Headers: e.headers(""),
			WantStatus: 403, WantBody: []string{`"code":"not_admin"`}},
		apitest.Scenario{Name: "duplicate", Method: "POST", URL: "/auth/v1/admin/users", Headers: svc,
			Body: `{"email":"made@example.com"}`, WantStatus: 422, WantBody: []string{`"code":"email_exists"`}},
		apitest.Scenario{Name: "list page 1", Method: "GET", URL: "/auth/v1/admin/users?page=1&per_page=2", Headers: svc, WantStatus: 200,
			WantBody: []string{`"aud":"authenticated"`},
			WantHeaders: map[string]string{"X-Total-Count": "5",
				"Link": `</auth/v1/admin/users?page=2&per_page=2>; rel="next", </auth/v1/admin/users?page=3&per_page=2>; rel="last"`}},
		apitest.Scenario{Name: "bad pagination", Method: "GET", URL: "/auth/v1/admin/users?page=x", Headers: svc, WantStatus: 400},
		apitest.Scenario{Name: "get", Method: "GET", URL: "/auth/v1/admin/users/" + id, Headers: svc, WantStatus: 200, WantBody: []string{`"made@example.com"`}},
		apitest.Scenario{Name: "get unknown", Method: "GET", URL: "/auth/v1/admin/users/00000000-0000-0000-0000-000000000001", Headers: svc,
			WantStatus: 404, WantBody: []string{`"code":"user_not_found"`}},
		apitest.Scenario{Name: "update", Method: "PUT", URL: "/auth/v1/admin/users/" + id, Headers: svc,
			Body: `{"user_metadata":{"n":2},"app_metadata":{"plan":null},"ban_duration":"1h"}`, WantStatus: 200,
			WantBody: []string{`"n":2`, `"banned_until"`}, WantNotBody: []string{`"plan"`}},
		apitest.Scenario{Name: "banned user cannot sign in", Method: "POST", URL: "/auth/v1/token?grant_type=password", Headers: e.headers(""),
			Body: `{"email":"made@example.com","password":"` + password + `"}`, WantStatus: 400, WantBody: []string{`"code":"user_banned"`}},
		apitest.Scenario{Name: "generate a magic link", Method: "POST", URL: "/auth/v1/admin/generate_link", Headers: svc,
			Body: `{"type":"magiclink","email":"user@example.com"}`, WantStatus: 200,
			WantBody: []string{`"action_link":"http://pgstack.test/auth/v1/verify?`, `"verification_type":"magiclink"`, `"email_otp"`}},
		apitest.Scenario{Name: "invite", Method: "POST", URL: "/auth/v1/invite", Headers: svc,
			Body: `{"email":"invited@example.com"}`, WantStatus: 200, WantBody: []string{`"invited_at"`}},
		apitest.Scenario{Name: "delete", Method: "DELETE", URL: "/auth/v1/admin/users/" + id, Headers: svc, WantStatus: 200},
		apitest.Scenario{Name: "deleted", Method: "GET", URL: "/auth/v1/admin/users/" + id, Headers: svc, WantStatus: 404},
		apitest.Scenario{Name: "soft delete", Method: "DELETE", URL: "/auth/v1/admin/users/" + field(user, "user", "id"), Headers: svc,
			Body: `{"should_soft_delete":true}`, WantStatus: 200},
		apitest.Scenario{Name: "soft-deleted user's token", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(field(user, "access_token")),
			WantStatus: 403, WantBody: []string{`"code":"user_not_found"`}},
	)
	m, ok := e.mail.last("invited@example.com")
	if !ok || m.Subject != "You have been invited" {
		t.Fatalf("invite mail = %+v", m)
	}
	link, _ := url.Parse(m.Link())
	e.Run(t, apitest.Scenario{Name: "accept the invite", Method: "GET", URL: link.RequestURI(), WantStatus: 303,
		Check: func(t *testing.T, res *http.Response, _ []byte) {
			frag, _ := url.ParseQuery(strings.SplitN(res.Header.Get("Location"), "#", 2)[1])
			if frag.Get("type") != "invite" || frag.Get("access_token") == "" {
				t.Fatalf("Location = %s", res.Header.Get("Location"))
			}
			if amr := field(decodeClaims(t, frag.Get("access_token")), "amr"); !strings.Contains(amr, `"invite"`) {
				t.Errorf("amr = %s", amr)
			}
		}})
}

func TestEmailChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.signUp(t, "old@example.com")
	e.signUp(t, "taken@example.com")
	tok := field(s, "access_token")
	e.call(t, apitest.Scenario{Name: "taken", Method: "PUT", URL: "/auth/v1/user", Headers: e.headers(tok),
		Body: `{"email":"taken@example.com"}`, WantStatus: 422, WantBody: []string{`"code":"email_exists"`}})
	e.call(t, apitest.Scenario{Name: "request the change", Method: "PUT", URL: "/auth/v1/user", Headers: e.headers(tok),
		Body: `{"email":"new@example.com"}`, WantStatus: 200, WantBody: []string{`"new_email":"new@example.com"`, `"email":"old@example.com"`}})
	toNew, okNew := e.mail.last("new@example.com")
	toOld, okOld := e.mail.last("old@example.com")
	if !okNew || !okOld || toNew.Subject != "Confirm Email Change" || toOld.Subject != "Confirm Email Change" {
		t.Fatalf("mail to the new address %+v, to the old one %+v; want a confirmation at each", toNew, toOld)
	}
	// The first confirmation is only recorded ...
	e.call(t, apitest.Scenario{Name: "confirm the new address", Method: "POST", URL: "/auth/v1/verify",
		Body: `{"type":"email_change","email":"new@example.com","token":"` + toNew.OTP() + `"}`, WantStatus: 200,
		WantBody: []string{`"msg":"Confirmation link accepted. Please proceed to confirm link sent to the other email"`}})
	e.call(t, apitest.Scenario{Name: "still the old address", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(tok),
		WantStatus: 200, WantBody: []string{`"email":"old@example.com"`}})
	// ... the second, here the link to the old address, applies the change.
	link, _ := url.Parse(toOld.Link())
	e.Run(t, apitest.Scenario{Name: "confirm at the old address", Method: "GET", URL: link.RequestURI(), WantStatus: 303,
		Check: func(t *testing.T, res *http.Response, _ []byte) {
			if loc := res.Header.Get("Location"); !strings.Contains(loc, "access_token=") || !strings.Contains(loc, "type=email_change") {
				t.Errorf("Location = %s", loc)
			}
		}})
	e.call(t, apitest.Scenario{Name: "changed", Method: "GET", URL: "/auth/v1/user", Headers: e.headers(tok),
		WantStatus: 200, WantBody: []string{`"email":"new@example.com"`}, WantNotBody: []string{`"new_email"`}})
	e.call(t, apitest.Scenario{Name: "sign in with the new address", Method: "POST", URL: "/auth/v1/token?grant_type=password",
		Body: `{"email":"new@example.com","password":"` + password + `"}`, WantStatus: 200})

	// Without secure e-mail change the new address alone confirms.
	single := newEnv(t, func(c *config.Config) { c.Auth.SecureEmailChange = false })
	tok = field(single.signUp(t, "one@example.com"), "access_token")
	single.call(t, apitest.Scenario{Name: "request", Method: "PUT", URL: "/auth/v1/user", Headers: single.headers(tok),
		Body: `{"email":"two@example.com"}`, WantStatus: 200})
	if single.mail.count("one@example.com") != 0 {
		t.Error("mail sent to the old address without secure e-mail change")
	}
	m, _ := single.mail.last("two@example.com")
	single.call(t, apitest.Scenario{Name: "confirm", Method: "POST", URL: "/auth/v1/verify",
		Body: `{"type":"email_change","email":"two@example.com","token":"` + m.OTP() + `"}`, WantStatus: 200,
		WantBody: []string{`"email":"two@example.com"`}})
}

func TestSettingsHealthAndKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Run(t,
		apitest.Scenario{Name: "health", Method: "GET", URL: "/auth/v1/health", WantStatus: 200, WantBody: []string{`"name":"GoTrue"`}},
		apitest.Scenario{Name: "settings", Method: "GET", URL: "/auth/v1/settings", WantStatus: 200,
			WantBody: []string{`"mailer_autoconfirm":true`, `"anonymous_users":true`, `"email":true`}},
		apitest.Scenario{Name: "jwks with HS256 only", Method: "GET", URL: "/auth/v1/.well-known/jwks.json", WantStatus: 200,
			WantBody: []string{`{"keys":[]}`}, WantHeaders: map[string]string{"Cache-Control": "public, max-age=600"}},
		apitest.Scenario{Name: "bad apikey", Method: "GET", URL: "/auth/v1/settings", Headers: map[string]string{"apikey": "nope"},
			WantStatus: 403, WantBody: []string{`"error_code":"bad_jwt"`}},
	)
}

// decodeClaims returns the payload of a JWT without verifying it.
func decodeClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
