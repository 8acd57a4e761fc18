package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Mail kinds, one template each. They are also the verify types of the links.
const (
	MailSignup      = "signup"
	MailRecovery    = "recovery"
	MailMagicLink   = "magiclink"
	MailEmailChange = "email_change"
	MailInvite      = "invite"
)

// Message is one auth e-mail.
type Message struct {
	To      string
	Kind    string
	Subject string
	Text    string
	HTML    string
	// Link is the verification link and OTP the one-time code it carries.
	Link string
	OTP  string
}

// Mailer delivers auth e-mails.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

type mailTemplate struct {
	subject string
	body    string
}

var mailTemplates = map[string]mailTemplate{
	MailSignup: {"Confirm Your Signup",
		`<h2>Confirm your signup</h2><p>Follow this link to confirm your user:</p><p><a href="{{.Link}}">Confirm your mail</a></p><p>Or enter this code: {{.OTP}}</p>`},
	MailRecovery: {"Reset Your Password",
		`<h2>Reset Password</h2><p>Follow this link to reset the password for your user:</p><p><a href="{{.Link}}">Reset Password</a></p><p>Or enter this code: {{.OTP}}</p>`},
	MailMagicLink: {"Your Magic Link",
		`<h2>Magic Link</h2><p>Follow this link to login:</p><p><a href="{{.Link}}">Log In</a></p><p>Or enter this code: {{.OTP}}</p>`},
	MailEmailChange: {"Confirm Email Change",
		`<h2>Confirm Change of Email</h2><p>Follow this link to confirm the update of your email from {{.Email}} to {{.NewEmail}}:</p><p><a href="{{.Link}}">Change Email</a></p><p>Or enter this code: {{.OTP}}</p>`},
	MailInvite: {"You have been invited",
		`<h2>You have been invited</h2><p>You have been invited to create a user on {{.SiteURL}}. Follow this link to accept the invite:</p><p><a href="{{.Link}}">Accept the invite</a></p><p>Or enter this code: {{.OTP}}</p>`},
}

var compiledTemplates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for k, t := range mailTemplates {
		m[k] = template.Must(template.New(k).Parse(t.body))
	}
	return m
}()

type mailData struct {
	Link, OTP, Email, NewEmail, SiteURL string
}

func renderMail(kind, to string, d mailData) (Message, error) {
	var html bytes.Buffer
	if err := compiledTemplates[kind].Execute(&html, d); err != nil {
		return Message{}, fmt.Errorf("render %s mail: %w", kind, err)
	}
	text := fmt.Sprintf("%s\n\nOpen this link: %s\n\nOr enter this code: %s\n", mailTemplates[kind].subject, d.Link, d.OTP)
	return Message{To: to, Kind: kind, Subject: mailTemplates[kind].subject, HTML: html.String(), Text: text, Link: d.Link, OTP: d.OTP}, nil
}

// LogMailer writes the links to the log instead of sending mail: the
// development default of `pgstack start`.
type LogMailer struct{ Log *slog.Logger }

// Send logs m's link and code.
func (l LogMailer) Send(ctx context.Context, m Message) error {
	l.Log.InfoContext(ctx, "auth e-mail (not sent: SMTP_HOST is unset)",
		"to", m.To, "kind", m.Kind, "link", m.Link, "code", m.OTP)
	return nil
}

// NoMailer refuses to send: production without SMTP.
type NoMailer struct{}

// Send fails.
func (NoMailer) Send(context.Context, Message) error {
	return errors.New("no mailer: set SMTP_HOST (or MAILER_AUTOCONFIRM=true)")
}

// SMTPMailer sends through an SMTP server with net/smtp: implicit TLS on port
// 465, otherwise STARTTLS whenever the server offers it; AUTH PLAIN when a
// user is configured (net/smtp refuses it over plain text except to
// localhost).
type SMTPMailer struct {
	Host, User, Pass string
	Port             int
	From             string // address
	FromName         string
	Timeout          time.Duration
}

// Send delivers m.
func (s SMTPMailer) Send(ctx context.Context, m Message) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	d := net.Dialer{}
	var conn net.Conn
	var err error
	if s.Port == 465 {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: &tls.Config{ServerName: s.Host}}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp dial %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp hello: %w", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("smtp hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && s.Port != 465 {
		if err := c.StartTLS(&tls.Config{ServerName: s.Host}); err != nil {
			return fmt.Errorf("smtp starttls: %w", err)
		}
	}
	if s.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Pass, s.Host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return fmt.Errorf("smtp mail from: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("smtp rcpt: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp data: %w", err)
	}
	if _, err := w.Write(s.compose(m)); err != nil {
		return fmt.Errorf("smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp data end: %w", err)
	}
	return c.Quit()
}

// compose builds a multipart/alternative message (text and HTML).
func (s SMTPMailer) compose(m Message) []byte {
	from := (&mail.Address{Name: s.FromName, Address: s.From}).String()
	boundary := "pgstack-" + rand.Text()
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", (&mail.Address{Address: m.To}).String())
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+rand.Text()+"@"+s.Host+">")
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.typ)
		qp := quotedprintable.NewWriter(&b)
		_, _ = qp.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n")))
		_ = qp.Close()
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}
