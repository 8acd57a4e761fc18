package runtimes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/pgstack/pgstack/internal/httperr"
)

// Identity headers a proxied function receives. Client-sent X-Pgstack-*
// headers are removed before these are set.
const (
	HeaderRole   = "X-Pgstack-Role"
	HeaderClaims = "X-Pgstack-Claims"
	HeaderSub    = "X-Pgstack-Sub"
)

// ProxyRuntime forwards invocations to an HTTP service, streaming both ways:
// runtime deno to the edge runtime at EDGE_RUNTIME_URL, runtime http to the
// function's own upstream_url. Either way the service receives the path
// after /functions/v1 (/<name>/rest?query), as Supabase's gateway forwards
// it to the edge runtime.
type ProxyRuntime struct {
	Runtime string // Deno or HTTP
	// EdgeRuntimeURL is the base URL of deno functions (EDGE_RUNTIME_URL).
	EdgeRuntimeURL string
	Transport      http.RoundTripper
}

// NewTransport returns the transport of proxied calls: it refuses to dial
// link-local (cloud metadata), multicast and unspecified addresses, checked
// after DNS resolution.
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: guardDial}
	return &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 150 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

func guardDial(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return fmt.Errorf("dialing %s is not allowed for functions", host)
	}
	return nil
}

// ValidateUpstreamURL checks an http function's upstream_url.
func ValidateUpstreamURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return deployErrorf("upstream_url must be an absolute http(s) URL, got %q", raw)
	}
	if u.User != nil {
		return deployErrorf("upstream_url must not carry credentials")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return deployErrorf("upstream_url must not have a query or fragment")
	}
	return nil
}

// Prepare builds the reverse proxy of one function.
func (p *ProxyRuntime) Prepare(_ context.Context, fn Function) (Handler, error) {
	base := p.EdgeRuntimeURL
	if p.Runtime == HTTP {
		if err := ValidateUpstreamURL(fn.UpstreamURL); err != nil {
			return nil, err
		}
		base = fn.UpstreamURL
	}
	h := &proxyFunc{runtime: p.Runtime, fn: fn}
	if base == "" {
		return h, nil // answered with 503 naming EDGE_RUNTIME_URL
	}
	target, err := url.Parse(base)
	if err != nil {
		return nil, deployErrorf("bad target URL %q", base)
	}
	h.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			c := pr.In.Context().Value(callKey{}).(Call)
			pr.Out.URL.Scheme = target.Scheme
			pr.Out.URL.Host = target.Host
			pr.Out.URL.Path = strings.TrimSuffix(target.Path, "/") + c.Path
			pr.Out.URL.RawPath = ""
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
			pr.Out.Host = target.Host
			// Rewrite runs after hop-by-hop headers were removed, so a client
			// cannot name these in Connection: to have them dropped.
			stripPgstackHeaders(pr.Out.Header)
			pr.Out.Header.Set(HeaderRole, c.Identity.Role)
			pr.Out.Header.Set(HeaderClaims, string(c.Identity.Claims))
			if c.Identity.Subject != "" {
				pr.Out.Header.Set(HeaderSub, c.Identity.Subject)
			}
			pr.SetXForwarded()
		},
		Transport:     p.Transport,
		FlushInterval: -1, // stream: server-sent events are never buffered
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			*r.Context().Value(errKey{}).(*error) = err
		},
	}
	return h, nil
}

type callKey struct{}
type errKey struct{}

type proxyFunc struct {
	runtime string
	fn      Function
	proxy   *httputil.ReverseProxy
}

func (f *proxyFunc) Serve(w http.ResponseWriter, r *http.Request, c Call) error {
	if f.proxy == nil {
		return httperr.New(http.StatusServiceUnavailable, httperr.CodeUnavailable,
			"function %s uses the deno runtime, but EDGE_RUNTIME_URL is not set on this server", f.fn.Name)
	}
	// Streams may outlive the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	var proxyErr error
	ctx := context.WithValue(context.WithValue(r.Context(), callKey{}, c), errKey{}, &proxyErr)
	f.proxy.ServeHTTP(w, r.WithContext(ctx))
	if proxyErr == nil {
		return nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(proxyErr, &tooLarge) || errors.Is(proxyErr, context.Canceled) {
		return proxyErr
	}
	if errors.Is(proxyErr, context.DeadlineExceeded) {
		return httperr.New(http.StatusGatewayTimeout, httperr.CodeTimeout,
			"function %s did not answer in time", f.fn.Name).WithCause(proxyErr)
	}
	where := "its upstream_url"
	if f.runtime == Deno {
		where = "the edge runtime at EDGE_RUNTIME_URL"
	}
	return httperr.New(http.StatusBadGateway, "function_unreachable",
		"function %s could not be reached at %s", f.fn.Name, where).WithCause(proxyErr)
}

// stripPgstackHeaders removes every X-Pgstack-* header.
func stripPgstackHeaders(h http.Header) {
	for name := range h {
		if strings.HasPrefix(http.CanonicalHeaderKey(name), "X-Pgstack-") {
			delete(h, name)
		}
	}
}
