package handlers

import (
	"context"

	api "github.com/pgstack/pgstack/gen/api/auth"
	"github.com/pgstack/pgstack/internal/auth"
	"github.com/pgstack/pgstack/internal/identity"
)

// adminPath is the list URL the Link header points to.
const adminPath = "/auth/v1/admin/users"

func adminUserParams(b api.AdminUserRequest) auth.AdminUserParams {
	return auth.AdminUserParams{
		ID: deref(b.Id), Role: deref(b.Role), Email: deref(b.Email), Phone: deref(b.Phone),
		Password: b.Password, PasswordHash: b.PasswordHash, EmailConfirm: deref(b.EmailConfirm),
		UserMetadata: metadata(b.UserMetadata), AppMetadata: metadata(b.AppMetadata), BanDuration: deref(b.BanDuration),
	}
}

// AdminCreateUser is POST /auth/v1/admin/users.
func (a *Auth) AdminCreateUser(ctx context.Context, req api.AdminCreateUserRequestObject) (api.AdminCreateUserResponseObject, error) {
	u, err := a.svc.AdminCreateUser(ctx, identity.From(ctx), adminUserParams(deref(req.Body)))
	if err != nil {
		return nil, err
	}
	return api.AdminCreateUser200JSONResponse(toAPIUser(u)), nil
}

// AdminListUsers is GET /auth/v1/admin/users.
func (a *Auth) AdminListUsers(ctx context.Context, req api.AdminListUsersRequestObject) (api.AdminListUsersResponseObject, error) {
	p, err := a.svc.AdminListUsers(ctx, identity.From(ctx), deref(req.Params.Page), deref(req.Params.PerPage))
	if err != nil {
		return nil, err
	}
	link := p.LinkHeader(adminPath)
	users := make([]api.User, 0, len(p.Users))
	for _, u := range p.Users {
		users = append(users, toAPIUser(u))
	}
	return api.AdminListUsers200JSONResponse{
		Body:    api.UserList{Users: users, Aud: auth.Audience},
		Headers: api.AdminListUsers200ResponseHeaders{XTotalCount: int(p.Total), Link: &link},
	}, nil
}

// AdminGetUser is GET /auth/v1/admin/users/{user_id}.
func (a *Auth) AdminGetUser(ctx context.Context, req api.AdminGetUserRequestObject) (api.AdminGetUserResponseObject, error) {
	u, err := a.svc.AdminGetUser(ctx, identity.From(ctx), req.UserId)
	if err != nil {
		return nil, err
	}
	return api.AdminGetUser200JSONResponse(toAPIUser(u)), nil
}

// AdminUpdateUser is PUT /auth/v1/admin/users/{user_id}.
func (a *Auth) AdminUpdateUser(ctx context.Context, req api.AdminUpdateUserRequestObject) (api.AdminUpdateUserResponseObject, error) {
	u, err := a.svc.AdminUpdateUser(ctx, identity.From(ctx), req.UserId, adminUserParams(deref(req.Body)))
	if err != nil {
		return nil, err
	}
	return api.AdminUpdateUser200JSONResponse(toAPIUser(u)), nil
}

// AdminDeleteUser is DELETE /auth/v1/admin/users/{user_id}.
func (a *Auth) AdminDeleteUser(ctx context.Context, req api.AdminDeleteUserRequestObject) (api.AdminDeleteUserResponseObject, error) {
	soft := req.Body != nil && deref(req.Body.ShouldSoftDelete)
	if err := a.svc.AdminDeleteUser(ctx, identity.From(ctx), req.UserId, soft); err != nil {
		return nil, err
	}
	return api.AdminDeleteUser200JSONResponse{}, nil
}

// AdminGenerateLink is POST /auth/v1/admin/generate_link.
func (a *Auth) AdminGenerateLink(ctx context.Context, req api.AdminGenerateLinkRequestObject) (api.AdminGenerateLinkResponseObject, error) {
	b := deref(req.Body)
	l, err := a.svc.AdminGenerateLink(ctx, identity.From(ctx), auth.GenerateLinkParams{
		Type: deref(b.Type), Email: deref(b.Email), NewEmail: deref(b.NewEmail), Password: deref(b.Password),
		Data: metadata(b.Data), RedirectTo: deref(b.RedirectTo),
	})
	if err != nil {
		return nil, err
	}
	u := toAPIUser(l.User)
	return api.AdminGenerateLink200JSONResponse{
		Id: u.Id, Aud: u.Aud, Role: u.Role, Email: u.Email, Phone: u.Phone,
		EmailConfirmedAt: u.EmailConfirmedAt, ConfirmedAt: u.ConfirmedAt, ConfirmationSentAt: u.ConfirmationSentAt,
		RecoverySentAt: u.RecoverySentAt, EmailChangeSentAt: u.EmailChangeSentAt, NewEmail: u.NewEmail,
		InvitedAt: u.InvitedAt, LastSignInAt: u.LastSignInAt, BannedUntil: u.BannedUntil,
		AppMetadata: u.AppMetadata, UserMetadata: u.UserMetadata, Identities: u.Identities,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, IsAnonymous: u.IsAnonymous,
		ActionLink: l.ActionLink, EmailOtp: l.EmailOTP, HashedToken: l.HashedToken,
		RedirectTo: l.RedirectTo, VerificationType: l.VerificationType,
	}, nil
}

// Invite is POST /auth/v1/invite.
func (a *Auth) Invite(ctx context.Context, req api.InviteRequestObject) (api.InviteResponseObject, error) {
	b := deref(req.Body)
	u, err := a.svc.Invite(ctx, identity.From(ctx), deref(b.Email), metadata(b.Data), deref(req.Params.RedirectTo))
	if err != nil {
		return nil, err
	}
	return api.Invite200JSONResponse(toAPIUser(u)), nil
}
