package auth

import (
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/pgstack/pgstack/internal/config"
)

// Limit classes, as GoTrue groups its endpoints.
const (
	limitToken     = "token"     // /token
	limitOTP       = "otp"       // /signup, /otp, /recover, PUT /user
	limitVerify    = "verify"    // /verify
	limitAnonymous = "anonymous" // anonymous /signup
	limitPerEmail  = "email"     // sign-in attempts and mail requests per address
)

// maxBuckets bounds the memory of the limiters: past it, idle (full)
// buckets are dropped.
const maxBuckets = 100_000

// limits holds in-process token buckets per (class, key). Limits are per
// replica, like GoTrue's.
type limits struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	classes map[string]rate.Limit
	bursts  map[string]int
	mail    *rate.Limiter // e-mails per hour for the whole server
	enabled bool          // per-IP limits need a trusted header
}

func newLimits(c config.Auth) *limits {
	per := func(n int, d time.Duration) rate.Limit { return rate.Limit(float64(n) / d.Seconds()) }
	l := &limits{
		buckets: map[string]*rate.Limiter{},
		classes: map[string]rate.Limit{
			limitToken:     per(c.RateLimitTokenRefresh, 5*time.Minute),
			limitOTP:       per(c.RateLimitOTP, 5*time.Minute),
			limitVerify:    per(c.RateLimitVerify, 5*time.Minute),
			limitAnonymous: per(c.RateLimitAnonymousUsers, time.Hour),
			limitPerEmail:  per(c.RateLimitPerEmail, 5*time.Minute),
		},
		bursts: map[string]int{
			limitToken: min(c.RateLimitTokenRefresh, 30), limitOTP: min(c.RateLimitOTP, 30),
			limitVerify: min(c.RateLimitVerify, 30), limitAnonymous: min(c.RateLimitAnonymousUsers, 30),
			limitPerEmail: min(c.RateLimitPerEmail, 30),
		},
		mail:    rate.NewLimiter(per(c.RateLimitEmailSent, time.Hour), c.RateLimitEmailSent),
		enabled: c.RateLimitHeader != "",
	}
	return l
}

func (l *limits) allow(class, key string) bool {
	if key == "" {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := class + "\x00" + key
	b, ok := l.buckets[k]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			now := time.Now()
			for name, lim := range l.buckets {
				if lim.TokensAt(now) >= float64(lim.Burst()) {
					delete(l.buckets, name)
				}
			}
		}
		b = rate.NewLimiter(l.classes[class], l.bursts[class])
		l.buckets[k] = b
	}
	return b.Allow()
}

// ip applies the per-IP limit of class to the request's client address.
func (s *Service) limitIP(m Meta, class string) error {
	if !s.limits.enabled || s.limits.allow(class, m.IP) {
		return nil
	}
	return newError(429, CodeOverRequestRateLimit, "Request rate limit reached")
}

// limitEmail applies the per-address limit.
func (s *Service) limitEmail(email string) error {
	if s.limits.allow(limitPerEmail, strings.ToLower(email)) {
		return nil
	}
	return newError(429, CodeOverRequestRateLimit, "Request rate limit reached")
}

// allowMail takes one e-mail from the server-wide budget.
func (s *Service) allowMail() error {
	if s.limits.mail.Allow() {
		return nil
	}
	return newError(429, CodeOverEmailSendRateLimit, "email rate limit exceeded")
}
