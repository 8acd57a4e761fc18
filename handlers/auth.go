package handlers

import (
	"context"
	"net/http"

	api "github.com/pgstack/pgstack/gen/api/auth"
	"github.com/pgstack/pgstack/internal/auth"
	"github.com/pgstack/pgstack/internal/identity"
)

// Auth serves openapi/auth.yaml (/auth/v1) over internal/auth.
type Auth struct {
	svc *auth.Service
}

var _ api.StrictServerInterface = (*Auth)(nil)

// NewAuth returns the auth API implementation.
func NewAuth(svc *auth.Service) *Auth { return &Auth{svc: svc} }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func metadata(m *api.Metadata) map[string]any {
	if m == nil {
		return nil
	}
	return *m
}

// AuthHealth is GET /auth/v1/health.
func (a *Auth) AuthHealth(context.Context, api.AuthHealthRequestObject) (api.AuthHealthResponseObject, error) {
	h := a.svc.Health()
	return api.AuthHealth200JSONResponse{Version: h.Version, Name: h.Name, Description: h.Description}, nil
}

// AuthSettings is GET /auth/v1/settings.
func (a *Auth) AuthSettings(context.Context, api.AuthSettingsRequestObject) (api.AuthSettingsResponseObject, error) {
	s := a.svc.Settings()
	return api.AuthSettings200JSONResponse{
		External: s.External, DisableSignup: s.DisableSignup, MailerAutoconfirm: s.MailerAutoconfirm,
		PhoneAutoconfirm: false, SmsProvider: "", SamlEnabled: false,
	}, nil
}

// Jwks is GET /auth/v1/.well-known/jwks.json.
func (a *Auth) Jwks(context.Context, api.JwksRequestObject) (api.JwksResponseObject, error) {
	cacheControl := "public, max-age=600"
	keys := a.svc.PublicKeys()
	out := make([]api.JWK, 0, len(keys))
	for _, k := range keys {
		j := api.JWK{Kty: k.Kty, Kid: k.Kid, Alg: k.Alg, Use: k.Use, KeyOps: k.KeyOps}
		for dst, v := range map[**string]string{&j.Crv: k.Crv, &j.X: k.X, &j.Y: k.Y, &j.N: k.N, &j.E: k.E} {
			if v != "" {
				*dst = &v
			}
		}
		out = append(out, j)
	}
	return api.Jwks200JSONResponse{Body: api.JWKS{Keys: out}, Headers: api.Jwks200ResponseHeaders{CacheControl: &cacheControl}}, nil
}

// Signup is POST /auth/v1/signup.
func (a *Auth) Signup(ctx context.Context, req api.SignupRequestObject) (api.SignupResponseObject, error) {
	b := deref(req.Body)
	res, err := a.svc.Signup(ctx, auth.SignupParams{
		Email: deref(b.Email), Phone: deref(b.Phone), Password: deref(b.Password), Data: metadata(b.Data),
		CodeChallenge: deref(b.CodeChallenge), CodeChallengeMethod: deref(b.CodeChallengeMethod),
		RedirectTo: deref(req.Params.RedirectTo),
	})
	if err != nil {
		return nil, err
	}
	var out api.SessionOrUser
	if res.Session != nil {
		err = out.FromSession(toAPISession(res.Session))
	} else {
		err = out.FromUser(toAPIUser(res.User))
	}
	return api.Signup200JSONResponse(out), err
}

// Token is POST /auth/v1/token.
func (a *Auth) Token(ctx context.Context, req api.TokenRequestObject) (api.TokenResponseObject, error) {
	b := deref(req.Body)
	s, err := a.svc.Token(ctx, req.Params.GrantType, auth.TokenParams{
		Email: deref(b.Email), Phone: deref(b.Phone), Password: deref(b.Password), RefreshToken: deref(b.RefreshToken),
		AuthCode: deref(b.AuthCode), CodeVerifier: deref(b.CodeVerifier),
	})
	if err != nil {
		return nil, err
	}
	return api.Token200JSONResponse(toAPISession(s)), nil
}

// GetUser is GET /auth/v1/user.
func (a *Auth) GetUser(ctx context.Context, _ api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := a.svc.GetUser(ctx, identity.From(ctx))
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(toAPIUser(u)), nil
}

// UpdateUser is PUT /auth/v1/user.
func (a *Auth) UpdateUser(ctx context.Context, req api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	b := deref(req.Body)
	u, err := a.svc.UpdateUser(ctx, identity.From(ctx), auth.UpdateUserParams{
		Email: b.Email, Password: b.Password, Phone: b.Phone, Data: deref(b.Data), AppMetadata: metadata(b.AppMetadata),
		CodeChallenge: deref(b.CodeChallenge), CodeChallengeMethod: deref(b.CodeChallengeMethod),
		RedirectTo: deref(req.Params.RedirectTo),
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse(toAPIUser(u)), nil
}

// Logout is POST /auth/v1/logout.
func (a *Auth) Logout(ctx context.Context, req api.LogoutRequestObject) (api.LogoutResponseObject, error) {
	if err := a.svc.Logout(ctx, identity.From(ctx), deref(req.Params.Scope)); err != nil {
		return nil, err
	}
	return api.Logout204Response{}, nil
}

// Recover is POST /auth/v1/recover.
func (a *Auth) Recover(ctx context.Context, req api.RecoverRequestObject) (api.RecoverResponseObject, error) {
	b := deref(req.Body)
	if err := a.svc.Recover(ctx, deref(b.Email), deref(b.CodeChallenge), deref(b.CodeChallengeMethod), deref(req.Params.RedirectTo)); err != nil {
		return nil, err
	}
	return api.Recover200JSONResponse{}, nil
}

// Otp is POST /auth/v1/otp.
func (a *Auth) Otp(ctx context.Context, req api.OtpRequestObject) (api.OtpResponseObject, error) {
	b := deref(req.Body)
	create := true
	if b.CreateUser != nil {
		create = *b.CreateUser
	}
	if err := a.svc.OTP(ctx, auth.OTPParams{
		Email: deref(b.Email), Phone: deref(b.Phone), Data: metadata(b.Data), CreateUser: create,
		CodeChallenge: deref(b.CodeChallenge), CodeChallengeMethod: deref(b.CodeChallengeMethod),
		RedirectTo: deref(req.Params.RedirectTo),
	}); err != nil {
		return nil, err
	}
	return api.Otp200JSONResponse{}, nil
}

// Resend is POST /auth/v1/resend.
func (a *Auth) Resend(ctx context.Context, req api.ResendRequestObject) (api.ResendResponseObject, error) {
	b := deref(req.Body)
	if err := a.svc.Resend(ctx, deref(b.Type), deref(b.Email), deref(b.Phone), deref(req.Params.RedirectTo)); err != nil {
		return nil, err
	}
	return api.Resend200JSONResponse{}, nil
}

// VerifyPost is POST /auth/v1/verify.
func (a *Auth) VerifyPost(ctx context.Context, req api.VerifyPostRequestObject) (api.VerifyPostResponseObject, error) {
	b := deref(req.Body)
	res, err := a.svc.Verify(ctx, auth.VerifyParams{
		Type: deref(b.Type), Email: deref(b.Email), Token: deref(b.Token), TokenHash: deref(b.TokenHash),
	})
	if err != nil {
		return nil, err
	}
	var out api.SessionOrMessage
	if res.Session != nil {
		err = out.FromSession(toAPISession(res.Session))
	} else {
		err = out.FromMessage(api.Message{Msg: res.Message, Code: http.StatusOK})
	}
	return api.VerifyPost200JSONResponse(out), err
}

// VerifyGet is GET /auth/v1/verify, the target of e-mail links.
func (a *Auth) VerifyGet(ctx context.Context, req api.VerifyGetRequestObject) (api.VerifyGetResponseObject, error) {
	loc := a.svc.VerifyLink(ctx, req.Params.Token, req.Params.Type, deref(req.Params.RedirectTo))
	return api.VerifyGet303Response{Headers: api.VerifyGet303ResponseHeaders{Location: loc}}, nil
}

func toAPISession(s *auth.Session) api.Session {
	out := api.Session{
		AccessToken: s.AccessToken, TokenType: "bearer", ExpiresIn: s.ExpiresIn, ExpiresAt: s.ExpiresAt,
		RefreshToken: s.RefreshToken, User: toAPIUser(s.User),
	}
	if len(s.WeakPassword) > 0 {
		reasons := make([]api.WeakPasswordReasons, len(s.WeakPassword))
		for i, r := range s.WeakPassword {
			reasons[i] = api.WeakPasswordReasons(r)
		}
		out.WeakPassword = &api.WeakPassword{Reasons: reasons}
	}
	return out
}

func toAPIUser(u *auth.User) api.User {
	out := api.User{
		Id: u.ID, Aud: u.Aud, Role: u.Role, Email: u.Email, Phone: u.Phone,
		EmailConfirmedAt: u.EmailConfirmedAt, PhoneConfirmedAt: u.PhoneConfirmedAt, ConfirmedAt: u.ConfirmedAt,
		ConfirmationSentAt: u.ConfirmationSentAt, RecoverySentAt: u.RecoverySentAt,
		EmailChangeSentAt: u.EmailChangeSentAt, InvitedAt: u.InvitedAt, LastSignInAt: u.LastSignInAt,
		BannedUntil: u.BannedUntil, DeletedAt: u.DeletedAt,
		AppMetadata: u.AppMetadata, UserMetadata: u.UserMetadata,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, IsAnonymous: u.IsAnonymous,
		Identities: make([]api.Identity, 0, len(u.Identities)),
	}
	if u.NewEmail != "" {
		out.NewEmail = &u.NewEmail
	}
	for _, i := range u.Identities {
		id := api.Identity{
			IdentityId: i.ID, Id: i.ProviderID, UserId: i.UserID, IdentityData: i.Data, Provider: i.Provider,
			LastSignInAt: i.LastSignInAt, CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt,
		}
		if i.Email != "" {
			id.Email = &i.Email
		}
		out.Identities = append(out.Identities, id)
	}
	return out
}
