package jwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"

	gojwt "github.com/golang-jwt/jwt/v5"
)

// SigningKey is an asymmetric key (ES256 or RS256) that signs access tokens
// instead of the HS256 secret. Its public half is published as a JWK.
type SigningKey struct {
	kid    string
	method gojwt.SigningMethod
	priv   crypto.Signer
}

// ParseSigningKey parses a PEM private key: EC P-256 (ES256) or RSA of at
// least 2048 bits (RS256), in SEC 1, PKCS #1 or PKCS #8 form. The key id is
// the key's RFC 7638 thumbprint, so every replica computes the same one.
func ParseSigningKey(pemText string) (*SigningKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("want a PEM private key")
	}
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	sk := &SigningKey{}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, errors.New("EC keys must use the P-256 curve (ES256)")
		}
		sk.method, sk.priv = gojwt.SigningMethodES256, k
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("RSA keys must have at least 2048 bits")
		}
		sk.method, sk.priv = gojwt.SigningMethodRS256, k
	default:
		return nil, errors.New("want an EC P-256 or RSA private key")
	}
	sk.kid = thumbprint(sk.publicJWK())
	return sk, nil
}

// Alg is the JWS algorithm of the key.
func (s *SigningKey) Alg() string { return s.method.Alg() }

// KeyID is the kid header of tokens the key signs.
func (s *SigningKey) KeyID() string { return s.kid }

// publicJWK returns the required members of the public key's JWK.
func (s *SigningKey) publicJWK() map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := s.priv.Public().(type) {
	case *ecdsa.PublicKey:
		x, y := make([]byte, 32), make([]byte, 32)
		k.X.FillBytes(x)
		k.Y.FillBytes(y)
		return map[string]string{"crv": "P-256", "kty": "EC", "x": b64(x), "y": b64(y)}
	case *rsa.PublicKey:
		return map[string]string{"e": b64(big.NewInt(int64(k.E)).Bytes()), "kty": "RSA", "n": b64(k.N.Bytes())}
	}
	return nil
}

// thumbprint is the RFC 7638 JWK thumbprint: SHA-256 over the required
// members in lexicographic order (encoding/json sorts map keys).
func thumbprint(jwk map[string]string) string {
	b, _ := json.Marshal(jwk)
	sum := sha256.Sum256(b)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// JWK is a public key as /.well-known/jwks.json publishes it.
type JWK struct {
	Kty    string
	Kid    string
	Alg    string
	Use    string
	KeyOps []string
	// EC members (Crv, X, Y) or RSA members (N, E).
	Crv, X, Y, N, E string
}

// UseSigningKey makes k sign access tokens with sk (SignAccessToken) and
// accept tokens sk signed, besides HS256 ones. Call it before k is shared.
func (k *Keys) UseSigningKey(sk *SigningKey) {
	k.signing = sk
}

// SignAccessToken signs an access token: with the asymmetric key when one is
// configured (header kid set), otherwise HS256 with the secret.
func (k *Keys) SignAccessToken(claims map[string]any) (string, error) {
	if k.signing == nil {
		return k.Sign(claims)
	}
	t := gojwt.NewWithClaims(k.signing.method, gojwt.MapClaims(claims))
	t.Header["kid"] = k.signing.kid
	s, err := t.SignedString(k.signing.priv)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// PublicKeys returns the keys clients may verify access tokens with. The
// HS256 secret is never published, so with HS256 alone the set is empty.
func (k *Keys) PublicKeys() []JWK {
	if k.signing == nil {
		return []JWK{}
	}
	m := k.signing.publicJWK()
	return []JWK{{
		Kty: m["kty"], Kid: k.signing.kid, Alg: k.signing.Alg(), Use: "sig", KeyOps: []string{"verify"},
		Crv: m["crv"], X: m["x"], Y: m["y"], N: m["n"], E: m["e"],
	}}
}
