package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(ModeServe, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.ListenAddr != "127.0.0.1:8080" || c.MaxBodySize != 1<<20 || c.JWTExpiry != time.Hour || c.FunctionTimeout != 5*time.Second ||
		c.EnableSQLEndpoint || len(c.RESTSchemas) != 1 || c.RESTSchemas[0] != "public" {
		t.Errorf("serve defaults = %+v", c)
	}
	s, _ := Load(ModeStart, env(nil))
	if !s.EnableSQLEndpoint {
		t.Error("ENABLE_SQL_ENDPOINT defaults to false under start, want true")
	}
	s, _ = Load(ModeStart, env(map[string]string{"ENABLE_SQL_ENDPOINT": "false"}))
	if s.EnableSQLEndpoint {
		t.Error("ENABLE_SQL_ENDPOINT=false ignored under start")
	}
}

func TestLoadParses(t *testing.T) {
	c, err := Load(ModeServe, env(map[string]string{
		"MAX_BODY_SIZE": "2048", "JWT_EXPIRY": "60", "DB_POOL_SIZE": "3", "REST_SCHEMAS": "public, api",
		"STATEMENT_TIMEOUT": "2s", "REST_MAX_ROWS": "1000", "REST_AGGREGATES": "true", "CORS_ALLOWED_ORIGINS": "https://a.example,https://b.example",
		"FUNCTION_TIMEOUT": "750ms", "DB_PIPELINE_DEPTH": "4",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxBodySize != 2048 || c.JWTExpiry != time.Minute || c.DBPoolSize != 3 || c.StatementTimeout != 2*time.Second ||
		strings.Join(c.RESTSchemas, "|") != "public|api" || len(c.CORSAllowedOrigins) != 2 || c.RESTMaxRows != 1000 || !c.RESTAggregates ||
		c.FunctionTimeout != 750*time.Millisecond || c.DBPipelineDepth != 4 {
		t.Errorf("parsed = %+v", c)
	}
}

func TestLoadAndValidateNameTheVariable(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"MAX_BODY_SIZE": "big"}, "MAX_BODY_SIZE"},
		{map[string]string{"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE"},
		{map[string]string{"DB_PIPELINE_DEPTH": "0"}, "DB_PIPELINE_DEPTH"},
		{map[string]string{"JWT_EXPIRY": "-1"}, "JWT_EXPIRY"},
		{map[string]string{"STATEMENT_TIMEOUT": "soon"}, "STATEMENT_TIMEOUT"},
		{map[string]string{"ENABLE_SQL_ENDPOINT": "maybe"}, "ENABLE_SQL_ENDPOINT"},
		{map[string]string{"FUNCTION_TIMEOUT": "0s"}, "FUNCTION_TIMEOUT"},
		{map[string]string{"FUNCTION_TIMEOUT": "forever"}, "FUNCTION_TIMEOUT"},
		{map[string]string{}, "DATABASE_URL is required"},
		{map[string]string{"DATABASE_URL": "postgres://x/y"}, "JWT_SECRET is required"},
		{map[string]string{"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"},
		{map[string]string{"JWT_SECRET": "short"}, "JWT_SECRET: want at least 32"},
		{map[string]string{"LISTEN_ADDR": "8080"}, "LISTEN_ADDR"},
		{map[string]string{"EDGE_RUNTIME_URL": "ftp://x"}, "EDGE_RUNTIME_URL"},
		{map[string]string{"REST_SCHEMAS": "public,bad-name"}, "REST_SCHEMAS"},
		{map[string]string{"REST_MAX_ROWS": "-1"}, "REST_MAX_ROWS"},
		{map[string]string{"REST_AGGREGATES": "sometimes"}, "REST_AGGREGATES"},
		{map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		{map[string]string{"PASSWORD_MIN_LENGTH": "5"}, "PASSWORD_MIN_LENGTH"},
		{map[string]string{"PASSWORD_HASH_COST": "32"}, "PASSWORD_HASH_COST"},
		{map[string]string{"MAILER_AUTOCONFIRM": "sometimes"}, "MAILER_AUTOCONFIRM"},
		{map[string]string{"REFRESH_TOKEN_REUSE_INTERVAL": "-1"}, "REFRESH_TOKEN_REUSE_INTERVAL"},
		{map[string]string{"SMTP_PORT": "70000"}, "SMTP_PORT"},
		{map[string]string{"SMTP_HOST": "mail.example.com"}, "SMTP_ADMIN_EMAIL is required"},
		{map[string]string{"API_EXTERNAL_URL": "example.com"}, "API_EXTERNAL_URL"},
		{map[string]string{"JWT_SIGNING_KEY": "not a key"}, "JWT_SIGNING_KEY"},
	}
	for _, c := range cases {
		cfg, err := Load(ModeServe, env(c.env))
		if err == nil {
			err = cfg.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("env %v: err = %v, want it to mention %q", c.env, err, c.want)
		}
	}
	ok, _ := Load(ModeServe, env(map[string]string{"DATABASE_URL": "postgres://u@h/db", "JWT_SECRET": strings.Repeat("s", 32)}))
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

func TestLoadAuth(t *testing.T) {
	serve, _ := Load(ModeServe, env(nil))
	start, _ := Load(ModeStart, env(nil))
	if serve.Auth.MailerAutoconfirm || serve.Auth.AnonymousUsers || !start.Auth.MailerAutoconfirm || !start.Auth.AnonymousUsers {
		t.Errorf("autoconfirm/anonymous defaults: serve %v/%v, start %v/%v; want off under serve, on under start",
			serve.Auth.MailerAutoconfirm, serve.Auth.AnonymousUsers, start.Auth.MailerAutoconfirm, start.Auth.AnonymousUsers)
	}
	a := serve.Auth
	if a.BcryptCost != 10 || a.PasswordMinLength != 6 || a.RefreshTokenReuseInterval != 10*time.Second ||
		a.ExternalURL != "http://127.0.0.1:8080" || a.RateLimitHeader != "" {
		t.Errorf("auth defaults = %+v", a)
	}
	c, err := Load(ModeServe, env(map[string]string{
		"PASSWORD_HASH_COST": "12", "REFRESH_TOKEN_REUSE_INTERVAL": "0", "URI_ALLOW_LIST": "https://a.example/*, https://b.example",
		"RATE_LIMIT_HEADER": "X-Real-IP", "SMTP_MAX_FREQUENCY": "5", "MAILER_AUTOCONFIRM": "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.BcryptCost != 12 || c.Auth.RefreshTokenReuseInterval != 0 || len(c.Auth.URIAllowList) != 2 ||
		c.Auth.RateLimitHeader != "X-Real-IP" || c.Auth.SMTPMaxFrequency != 5*time.Second || !c.Auth.MailerAutoconfirm {
		t.Errorf("parsed auth = %+v", c.Auth)
	}
}
