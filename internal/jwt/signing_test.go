package jwt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	gojwt "github.com/golang-jwt/jwt/v5"
)

func pemOf(t *testing.T, typ string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func TestSigningKeys(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	for _, c := range []struct {
		name, pem, alg, kty string
	}{
		{"EC P-256", pemOf(t, "EC PRIVATE KEY", ecDER), "ES256", "EC"},
		{"RSA PKCS#8", pemOf(t, "PRIVATE KEY", pkcs8), "RS256", "RSA"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sk, err := ParseSigningKey(c.pem)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := ParseSigningKey(c.pem)
			if sk.KeyID() != again.KeyID() || sk.KeyID() == "" {
				t.Errorf("kid %q then %q, want one stable id", sk.KeyID(), again.KeyID())
			}
			keys := New(secret, nil)
			keys.UseSigningKey(sk)
			tok, err := keys.SignAccessToken(map[string]any{"role": "authenticated", "sub": "u"})
			if err != nil {
				t.Fatal(err)
			}
			var header map[string]string
			b, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
			_ = json.Unmarshal(b, &header)
			if header["alg"] != c.alg || header["kid"] != sk.KeyID() {
				t.Errorf("header = %v", header)
			}
			if got, err := keys.Verify(tok); err != nil || got.Subject != "u" {
				t.Errorf("Verify = %+v, %v", got, err)
			}
			// HS256 keeps working next to the signing key.
			anon, _ := keys.APIKey(RoleAnon)
			if _, err := keys.Verify(anon); err != nil {
				t.Errorf("anon key: %v", err)
			}
			// Without the key configured, the token is refused.
			if _, err := New(secret, nil).Verify(tok); !errors.Is(err, ErrAlgorithm) {
				t.Errorf("verify without the key: %v, want ErrAlgorithm", err)
			}
			jwks := keys.PublicKeys()
			if len(jwks) != 1 || jwks[0].Kty != c.kty || jwks[0].Alg != c.alg || jwks[0].Kid != sk.KeyID() {
				t.Errorf("JWKS = %+v", jwks)
			}
		})
	}

	// A token whose header names the key's kid but alg HS256 is checked
	// against the HS256 secret, never the public key: signing it with the
	// public key's bytes as an HMAC secret must fail.
	sk, _ := ParseSigningKey(pemOf(t, "EC PRIVATE KEY", ecDER))
	keys := New(secret, nil)
	keys.UseSigningKey(sk)
	pub, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	forged := gojwt.NewWithClaims(gojwt.SigningMethodHS256, gojwt.MapClaims{"role": "service_role"})
	forged.Header["kid"] = sk.KeyID()
	s, _ := forged.SignedString(pub)
	if _, err := keys.Verify(s); !errors.Is(err, ErrSignature) {
		t.Errorf("HS256 token signed with the public key: %v, want ErrSignature", err)
	}

	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p224DER, _ := x509.MarshalECPrivateKey(p224)
	for name, bad := range map[string]string{
		"garbage":  "not a key",
		"RSA 1024": pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)),
		"P-224":    pemOf(t, "EC PRIVATE KEY", p224DER),
	} {
		if _, err := ParseSigningKey(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
