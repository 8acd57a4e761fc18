package auth

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestMailTemplates(t *testing.T) {
	for kind, tpl := range mailTemplates {
		m, err := renderMail(kind, "to@example.com", mailData{Link: "http://x.test/auth/v1/verify?token=abc&type=" + kind, OTP: "123456",
			Email: "old@example.com", NewEmail: "new@example.com", SiteURL: "http://app.test"})
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != tpl.subject || !strings.Contains(m.HTML, "token=abc&amp;type="+kind) || !strings.Contains(m.HTML, "123456") ||
			!strings.Contains(m.Text, "token=abc&type="+kind) {
			t.Errorf("%s mail = %+v", kind, m)
		}
	}
	// Values are escaped in the HTML part.
	m, _ := renderMail(MailEmailChange, "to@example.com", mailData{Link: "http://x.test/", NewEmail: `<script>@example.com`})
	if strings.Contains(m.HTML, "<script>") {
		t.Errorf("HTML not escaped: %s", m.HTML)
	}
}

func TestLogMailerWritesTheLink(t *testing.T) {
	var buf bytes.Buffer
	l := LogMailer{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := l.Send(context.Background(), Message{To: "a@example.com", Kind: MailRecovery, Link: "http://x.test/verify?token=t", OTP: "654321"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "http://x.test/verify?token=t") || !strings.Contains(buf.String(), "654321") {
		t.Errorf("log = %s", buf.String())
	}
	if (NoMailer{}).Send(context.Background(), Message{}) == nil {
		t.Error("NoMailer sent")
	}
}

func TestRedirectURL(t *testing.T) {
	s := &Service{siteURL: "https://app.example"}
	s.cfg.URIAllowList = []string{"https://preview-*", "myapp://callback"}
	for in, want := range map[string]string{
		"":                              "https://app.example",
		"https://app.example/reset":     "https://app.example/reset",
		"https://evil.example/steal":    "https://app.example",
		"https://preview-42.vercel.app": "https://preview-42.vercel.app",
		"myapp://callback":              "myapp://callback",
		"myapp://other":                 "https://app.example",
		"javascript:alert(1)":           "https://app.example",
	} {
		if got := s.redirectURL(in); got != want {
			t.Errorf("redirectURL(%q) = %q, want %q", in, got, want)
		}
	}
}
