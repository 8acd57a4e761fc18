package auth_test

import (
	"bufio"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// mailbox is a minimal SMTP server that keeps what it receives: the tests
// read the links pgStack's SMTP mailer sent, as a user would from a mail.
type mailbox struct {
	addr *net.TCPAddr
	mu   sync.Mutex
	mail []receivedMail
}

type receivedMail struct {
	To, Subject, Text string
}

var (
	linkRE = regexp.MustCompile(`https?://\S+/auth/v1/verify\?\S+`)
	codeRE = regexp.MustCompile(`code: (\d{6})`)
)

// Link is the verification link of the mail.
func (m receivedMail) Link() string { return linkRE.FindString(m.Text) }

// OTP is the one-time code of the mail.
func (m receivedMail) OTP() string {
	if s := codeRE.FindStringSubmatch(m.Text); s != nil {
		return s[1]
	}
	return ""
}

func startMailbox(t testing.TB) *mailbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	mb := &mailbox{addr: ln.Addr().(*net.TCPAddr)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go mb.serve(c)
		}
	}()
	return mb
}

func (mb *mailbox) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	reply := func(s string) { _, _ = io.WriteString(c, s+"\r\n") }
	reply("220 localhost ESMTP test")
	var to string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			reply("250 localhost")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			reply("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			to = strings.Trim(strings.TrimSpace(line)[len("RCPT TO:"):], "<>")
			reply("250 ok")
		case cmd == "DATA":
			reply("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			mb.store(to, data.String())
			reply("250 ok")
		case cmd == "QUIT":
			reply("221 bye")
			return
		default:
			reply("250 ok")
		}
	}
}

func (mb *mailbox) store(to, raw string) {
	m := receivedMail{To: strings.ToLower(to)}
	if msg, err := mail.ReadMessage(strings.NewReader(raw)); err == nil {
		m.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
				m.Text = string(b)
			}
		}
	}
	mb.mu.Lock()
	mb.mail = append(mb.mail, m)
	mb.mu.Unlock()
}

// last returns the newest mail to addr. Mail is sent before the request that
// causes it answers, so it is there when the test looks.
func (mb *mailbox) last(addr string) (receivedMail, bool) {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	for i := len(mb.mail) - 1; i >= 0; i-- {
		if mb.mail[i].To == strings.ToLower(addr) {
			return mb.mail[i], true
		}
	}
	return receivedMail{}, false
}

func (mb *mailbox) count(addr string) int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	n := 0
	for _, m := range mb.mail {
		if m.To == strings.ToLower(addr) {
			n++
		}
	}
	return n
}
