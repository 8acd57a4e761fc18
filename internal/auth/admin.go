package auth

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pgstack/pgstack/gen/db"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
)

// requireAdmin admits only the service role, as GoTrue's admin routes do.
func requireAdmin(ctx context.Context, id identity.Identity) error {
	if id.Token == "" || !metaFrom(ctx).Bearer {
		return newError(http.StatusUnauthorized, CodeNoAuthorization, "This endpoint requires a valid Bearer token")
	}
	if id.Role != jwt.RoleServiceRole {
		return forbidden(CodeNotAdmin, "User not allowed")
	}
	return nil
}

// AdminUserParams is the body of POST/PUT /admin/users.
type AdminUserParams struct {
	ID, Role, Email, Phone string
	Password, PasswordHash *string
	EmailConfirm           bool
	UserMetadata           map[string]any
	AppMetadata            map[string]any
	BanDuration            string
}

func parseBan(d string) (*time.Time, bool, error) {
	switch d {
	case "":
		return nil, false, nil
	case "none":
		return nil, true, nil
	}
	dur, err := time.ParseDuration(d)
	if err != nil || dur < 0 {
		return nil, false, badRequest(CodeValidationFailed, "invalid format for ban duration: %q", d)
	}
	t := time.Now().Add(dur)
	return &t, true, nil
}

func checkRole(role string) error {
	if role != "" && !jwt.ValidRole(role) {
		return badRequest(CodeValidationFailed, "role must be anon, authenticated or service_role")
	}
	return nil
}

func (s *Service) adminPasswordHash(ctx context.Context, p AdminUserParams) (string, error) {
	switch {
	case p.Password != nil && p.PasswordHash != nil:
		return "", badRequest(CodeValidationFailed, "Only a password or a password hash should be provided")
	case p.PasswordHash != nil:
		h := *p.PasswordHash
		if !(strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$") || strings.HasPrefix(h, "$2y$")) || len(h) != 60 {
			return "", badRequest(CodeValidationFailed, "Invalid password hash format: only bcrypt hashes are supported")
		}
		return h, nil
	case p.Password != nil:
		if err := s.checkPassword(*p.Password); err != nil {
			return "", err
		}
		return s.hashPassword(ctx, *p.Password)
	}
	return "", nil
}

// AdminCreateUser is POST /admin/users.
func (s *Service) AdminCreateUser(ctx context.Context, id identity.Identity, p AdminUserParams) (*User, error) {
	if err := requireAdmin(ctx, id); err != nil {
		return nil, err
	}
	if p.Phone != "" {
		return nil, badRequest(CodePhoneProviderDisabled, "Phone users are not supported")
	}
	email, err := normalizeEmail(p.Email)
	if err != nil {
		return nil, err
	}
	if err := checkRole(p.Role); err != nil {
		return nil, err
	}
	uid := uuid.Nil
	if p.ID != "" {
		if uid, err = uuid.Parse(p.ID); err != nil || uid == uuid.Nil {
			return nil, badRequest(CodeValidationFailed, "id must be a non-nil UUID")
		}
	}
	ban, _, err := parseBan(p.BanDuration)
	if err != nil {
		return nil, err
	}
	hash, err := s.adminPasswordHash(ctx, p)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.inTx(ctx, func(q *db.Queries) error {
		if taken, err := q.UserEmailTaken(ctx, db.UserEmailTakenParams{Email: email, ExceptID: uuid.Nil}); err != nil {
			return err
		} else if taken {
			return unprocessable(CodeEmailExists, "A user with this email address has already been registered")
		}
		u, err := s.createUser(ctx, q, newUser{
			ID: uid, Email: email, PasswordHash: hash, UserMetadata: p.UserMetadata, AppMetadata: p.AppMetadata,
			Role: p.Role, Confirmed: p.EmailConfirm, Provider: "email", BannedUntil: ban,
		})
		if err != nil {
			return err
		}
		if err := s.audit(ctx, q, u.ID, email, actionAdminCreated, nil); err != nil {
			return err
		}
		out, err = s.withIdentities(ctx, q, u)
		return err
	})
	return out, err
}

// UserPage is one page of AdminListUsers.
type UserPage struct {
	Users   []*User
	Total   int64
	Page    int
	PerPage int
}

// AdminListUsers is GET /admin/users: newest first, page from 1, per_page
// up to 1000 (default 50).
func (s *Service) AdminListUsers(ctx context.Context, id identity.Identity, page, perPage string) (UserPage, error) {
	if err := requireAdmin(ctx, id); err != nil {
		return UserPage{}, err
	}
	p := UserPage{Page: 1, PerPage: 50}
	var err error
	if page != "" {
		if p.Page, err = strconv.Atoi(page); err != nil || p.Page < 1 || p.Page > 1_000_000 {
			return UserPage{}, badRequest(CodeValidationFailed, "Bad Pagination Parameters")
		}
	}
	if perPage != "" {
		if p.PerPage, err = strconv.Atoi(perPage); err != nil || p.PerPage < 1 || p.PerPage > 1000 {
			return UserPage{}, badRequest(CodeValidationFailed, "Bad Pagination Parameters")
		}
	}
	rows, err := s.q.ListUsers(ctx, db.ListUsersParams{Aud: Audience, Lim: int32(p.PerPage), Off: int32((p.Page - 1) * p.PerPage)})
	if err != nil {
		return UserPage{}, transient(err)
	}
	if p.Total, err = s.q.CountUsers(ctx, Audience); err != nil {
		return UserPage{}, transient(err)
	}
	p.Users = make([]*User, 0, len(rows))
	for _, r := range rows {
		u, err := s.withIdentities(ctx, s.q, r)
		if err != nil {
			return UserPage{}, transient(err)
		}
		p.Users = append(p.Users, u)
	}
	return p, nil
}

// LinkHeader is the Link header of a page, page= first as auth-js parses it.
func (p UserPage) LinkHeader(path string) string {
	last := int((p.Total + int64(p.PerPage) - 1) / int64(p.PerPage))
	var links []string
	if p.Page < last {
		links = append(links, fmt.Sprintf(`<%s?page=%d&per_page=%d>; rel="next"`, path, p.Page+1, p.PerPage))
	}
	if last > 0 {
		links = append(links, fmt.Sprintf(`<%s?page=%d&per_page=%d>; rel="last"`, path, last, p.PerPage))
	}
	return strings.Join(links, ", ")
}

func parseUserID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, newError(http.StatusNotFound, CodeUserNotFound, "User not found")
	}
	return id, nil
}

// AdminGetUser is GET /admin/users/{id}.
func (s *Service) AdminGetUser(ctx context.Context, id identity.Identity, userID string) (*User, error) {
	if err := requireAdmin(ctx, id); err != nil {
		return nil, err
	}
	uid, err := parseUserID(userID)
	if err != nil {
		return nil, err
	}
	u, err := s.q.GetUserByID(ctx, uid)
	if notFound(err) {
		return nil, newError(http.StatusNotFound, CodeUserNotFound, "User not found")
	} else if err != nil {
		return nil, transient(err)
	}
	out, err := s.withIdentities(ctx, s.q, u)
	return out, transient(err)
}

// AdminUpdateUser is PUT /admin/users/{id}. Metadata objects replace keys
// (null removes one); an e-mail change applies at once.
func (s *Service) AdminUpdateUser(ctx context.Context, id identity.Identity, userID string, p AdminUserParams) (*User, error) {
	if err := requireAdmin(ctx, id); err != nil {
		return nil, err
	}
	uid, err := parseUserID(userID)
	if err != nil {
		return nil, err
	}
	if err := checkRole(p.Role); err != nil {
		return nil, err
	}
	var email string
	if p.Email != "" {
		if email, err = normalizeEmail(p.Email); err != nil {
			return nil, err
		}
	}
	ban, setBan, err := parseBan(p.BanDuration)
	if err != nil {
		return nil, err
	}
	hash, err := s.adminPasswordHash(ctx, p)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.inTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByID(ctx, uid)
		if notFound(err) {
			return newError(http.StatusNotFound, CodeUserNotFound, "User not found")
		} else if err != nil {
			return err
		}
		if p.Role != "" {
			u.Role = &p.Role
		}
		if hash != "" {
			u.EncryptedPassword = &hash
		}
		if p.UserMetadata != nil {
			u.RawUserMetaData = mustJSON(merge(jsonObject(u.RawUserMetaData), p.UserMetadata))
		}
		if p.AppMetadata != nil {
			u.RawAppMetaData = mustJSON(merge(jsonObject(u.RawAppMetaData), p.AppMetadata))
		}
		if setBan {
			if ban == nil {
				u.BannedUntil.Valid = false
			} else {
				u.BannedUntil = ts(*ban)
			}
		}
		if p.EmailConfirm && !u.EmailConfirmedAt.Valid {
			u.EmailConfirmedAt = ts(time.Now())
		}
		if u, err = q.UpdateUser(ctx, updateParams(u)); err != nil {
			return err
		}
		if email != "" && email != str(u.Email) {
			if u, err = s.applyEmail(ctx, q, u, email); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, q, u.ID, str(u.Email), actionModified, map[string]any{"by": "admin"}); err != nil {
			return err
		}
		out, err = s.withIdentities(ctx, q, u)
		return err
	})
	return out, err
}

func merge(dst, src map[string]any) map[string]any {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
	return dst
}

// AdminDeleteUser is DELETE /admin/users/{id}. A hard delete removes the
// user with its identities, sessions and tokens; a soft delete keeps the
// row with deleted_at set, frees the e-mail address and ends all sessions.
func (s *Service) AdminDeleteUser(ctx context.Context, id identity.Identity, userID string, soft bool) error {
	if err := requireAdmin(ctx, id); err != nil {
		return err
	}
	uid, err := parseUserID(userID)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByID(ctx, uid)
		if notFound(err) {
			return newError(http.StatusNotFound, CodeUserNotFound, "User not found")
		} else if err != nil {
			return err
		}
		if err := s.audit(ctx, q, u.ID, str(u.Email), actionDeleted, map[string]any{"soft": soft}); err != nil {
			return err
		}
		if !soft {
			_, err = q.DeleteUser(ctx, uid)
			return err
		}
		if _, err := q.DeleteUserSessions(ctx, uid); err != nil {
			return err
		}
		if err := q.DeleteUserOneTimeTokens(ctx, uid); err != nil {
			return err
		}
		u.Email, u.Phone, u.EncryptedPassword = nil, nil, ptr("")
		u.DeletedAt = ts(time.Now())
		_, err = q.UpdateUser(ctx, updateParams(u))
		return err
	})
}

// GenerateLinkParams is POST /admin/generate_link.
type GenerateLinkParams struct {
	Type, Email, NewEmail, Password string
	Data                            map[string]any
	RedirectTo                      string
}

// Link is what an e-mail of that type would carry, returned instead of sent.
type Link struct {
	User             *User
	ActionLink       string
	EmailOTP         string
	HashedToken      string
	RedirectTo       string
	VerificationType string
}

// AdminGenerateLink creates a signup, invite, magiclink, recovery or
// email_change link without sending mail.
func (s *Service) AdminGenerateLink(ctx context.Context, id identity.Identity, p GenerateLinkParams) (*Link, error) {
	if err := requireAdmin(ctx, id); err != nil {
		return nil, err
	}
	email, err := normalizeEmail(p.Email)
	if err != nil {
		return nil, err
	}
	kind := p.Type
	switch kind {
	case MailSignup, MailInvite, MailMagicLink, MailRecovery:
	case "email_change_new", "email_change_current", MailEmailChange:
		kind = MailEmailChange
	default:
		return nil, badRequest(CodeValidationFailed, "Invalid link type %q", p.Type)
	}
	var hash string
	if kind == MailSignup {
		if p.Password == "" {
			return nil, unprocessable(CodeValidationFailed, "Signup requires a valid password")
		}
		if err := s.checkPassword(p.Password); err != nil {
			return nil, err
		}
		if hash, err = s.hashPassword(ctx, p.Password); err != nil {
			return nil, err
		}
	}
	var newEmail string
	if kind == MailEmailChange {
		if newEmail, err = normalizeEmail(p.NewEmail); err != nil {
			return nil, err
		}
	}
	var out *Link
	err = s.inTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByEmail(ctx, db.GetUserByEmailParams{Email: email, Aud: Audience})
		switch {
		case notFound(err) && (kind == MailSignup || kind == MailInvite):
			if u, err = s.createUser(ctx, q, newUser{Email: email, PasswordHash: hash, UserMetadata: p.Data, Provider: "email", Invited: kind == MailInvite}); err != nil {
				return err
			}
		case notFound(err):
			return newError(http.StatusNotFound, CodeUserNotFound, "User with this email not found")
		case err != nil:
			return err
		case kind == MailSignup || kind == MailInvite:
			if u.EmailConfirmedAt.Valid {
				return unprocessable(CodeEmailExists, "A user with this email address has already been registered")
			}
		}
		target := email
		if kind == MailEmailChange {
			if taken, err := q.UserEmailTaken(ctx, db.UserEmailTakenParams{Email: newEmail, ExceptID: u.ID}); err != nil {
				return err
			} else if taken {
				return unprocessable(CodeEmailExists, "A user with this email address has already been registered")
			}
			u.EmailChange = &newEmail
			target = newEmail
		}
		t, err := s.issueMailToken(ctx, q, &u, kind, target, pkceParams{}, p.RedirectTo)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, q, u.ID, email, actionGenerateLink, map[string]any{"type": kind}); err != nil {
			return err
		}
		user, err := s.withIdentities(ctx, q, u)
		if err != nil {
			return err
		}
		out = &Link{User: user, ActionLink: t.Link, EmailOTP: t.OTP, HashedToken: t.Hash, RedirectTo: t.RedirectTo, VerificationType: kind}
		return nil
	})
	return out, err
}

// Invite is POST /invite: creates the user and mails an invitation.
func (s *Service) Invite(ctx context.Context, id identity.Identity, email string, data map[string]any, redirectTo string) (*User, error) {
	if err := requireAdmin(ctx, id); err != nil {
		return nil, err
	}
	email, err := normalizeEmail(email)
	if err != nil {
		return nil, err
	}
	var out *User
	err = s.inTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUserByEmail(ctx, db.GetUserByEmailParams{Email: email, Aud: Audience})
		switch {
		case notFound(err):
			if u, err = s.createUser(ctx, q, newUser{Email: email, UserMetadata: data, Provider: "email", Invited: true}); err != nil {
				return err
			}
		case err != nil:
			return err
		case u.EmailConfirmedAt.Valid:
			return unprocessable(CodeEmailExists, "A user with this email address has already been registered")
		}
		if err := s.sendMail(ctx, q, &u, MailInvite, email, pkceParams{}, redirectTo); err != nil {
			return err
		}
		if err := s.audit(ctx, q, u.ID, email, actionInvited, nil); err != nil {
			return err
		}
		out, err = s.withIdentities(ctx, q, u)
		return err
	})
	return out, err
}
