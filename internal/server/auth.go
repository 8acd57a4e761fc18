package server

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	api "github.com/pgstack/pgstack/gen/api/auth"
	"github.com/pgstack/pgstack/handlers"
	"github.com/pgstack/pgstack/internal/auth"
	"github.com/pgstack/pgstack/internal/config"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
)

// mountAuth serves the GoTrue-compatible API at /auth/v1. Every error on
// these routes, token failures included, is written in GoTrue's format.
func mountAuth(r chi.Router, d Deps) error {
	svc, err := auth.New(auth.Options{
		Config: d.Config, Pool: d.DB.Owner, Keys: d.Keys, Mailer: authMailer(d), Version: d.Version,
	})
	if err != nil {
		return err
	}
	strict := api.NewStrictHandlerWithOptions(handlers.NewAuth(svc), nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  auth.WriteRequestError,
		ResponseErrorHandlerFunc: auth.WriteError,
	})
	header := d.Config.Auth.RateLimitHeader
	r.Group(func(g chi.Router) {
		g.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				m := auth.Meta{UserAgent: r.UserAgent(), Bearer: r.Header.Get("Authorization") != ""}
				if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
					m.Peer = host
				}
				if header != "" {
					m.IP, _, _ = strings.Cut(r.Header.Get(header), ",")
					m.IP = strings.TrimSpace(m.IP)
				}
				next.ServeHTTP(w, r.WithContext(auth.WithMeta(r.Context(), m)))
			})
		}, identity.Middleware(d.Keys, auth.WriteError))
		api.HandlerWithOptions(strict, api.ChiServerOptions{BaseRouter: g, ErrorHandlerFunc: auth.WriteParamError})
	})
	return nil
}

// authMailer sends auth e-mail through SMTP when SMTP_HOST is set. Without
// it, `pgstack start` writes the links to the log and `serve` refuses to
// send (sign-ups then need MAILER_AUTOCONFIRM=true).
func authMailer(d Deps) auth.Mailer {
	c := d.Config.Auth
	switch {
	case c.SMTPHost != "":
		return auth.SMTPMailer{
			Host: c.SMTPHost, Port: c.SMTPPort, User: c.SMTPUser, Pass: c.SMTPPass,
			From: c.SMTPAdminEmail, FromName: c.SMTPSenderName,
		}
	case d.Config.Mode == config.ModeStart:
		return auth.LogMailer{Log: d.Log}
	}
	if !c.MailerAutoconfirm {
		d.Log.Warn("auth: SMTP_HOST is unset, so confirmation and recovery e-mails cannot be sent")
	}
	return auth.NoMailer{}
}

// NewKeys returns the token keys of cfg: HS256 with JWT_SECRET, plus the
// ES256/RS256 JWT_SIGNING_KEY for access tokens when one is set.
func NewKeys(cfg *config.Config) (*jwt.Keys, error) {
	keys := jwt.New(cfg.JWTSecret, nil)
	if cfg.Auth.JWTSigningKey != "" {
		sk, err := jwt.ParseSigningKey(cfg.Auth.JWTSigningKey)
		if err != nil {
			return nil, fmt.Errorf("JWT_SIGNING_KEY: %w", err)
		}
		keys.UseSigningKey(sk)
	}
	return keys, nil
}
