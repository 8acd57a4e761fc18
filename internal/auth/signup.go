package auth

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/google/uuid"

	"github.com/pgstack/pgstack/gen/db"
)

// SignupParams is POST /signup.
type SignupParams struct {
	Email, Phone, Password string
	Data                   map[string]any
	CodeChallenge          string
	CodeChallengeMethod    string
	RedirectTo             string
}

// SignupResult is a session, or, while the e-mail awaits confirmation, the
// user alone.
type SignupResult struct {
	Session *Session
	User    *User
}

// Signup creates a user with e-mail and password, or an anonymous user when
// neither e-mail nor phone is given.
func (s *Service) Signup(ctx context.Context, p SignupParams) (SignupResult, error) {
	m := metaFrom(ctx)
	if p.Email == "" && p.Phone == "" {
		return s.signupAnonymously(ctx, p)
	}
	if err := s.limitIP(m, limitOTP); err != nil {
		return SignupResult{}, err
	}
	if s.cfg.DisableSignup {
		return SignupResult{}, unprocessable(CodeSignupDisabled, "Signups not allowed for this instance")
	}
	if p.Phone != "" {
		return SignupResult{}, badRequest(CodePhoneProviderDisabled, "Phone signups are disabled")
	}
	email, err := normalizeEmail(p.Email)
	if err != nil {
		return SignupResult{}, err
	}
	if p.Password == "" {
		return SignupResult{}, unprocessable(CodeValidationFailed, "Signup requires a valid password")
	}
	if err := s.checkPassword(p.Password); err != nil {
		return SignupResult{}, err
	}
	pkce, err := checkPKCE(p.CodeChallenge, p.CodeChallengeMethod)
	if err != nil {
		return SignupResult{}, err
	}
	if err := s.limitEmail(email); err != nil {
		return SignupResult{}, err
	}
	// Hash before the transaction: bcrypt must not hold a connection.
	hash, err := s.hashPassword(ctx, p.Password)
	if err != nil {
		return SignupResult{}, err
	}

	var res SignupResult
	err = s.inTx(ctx, func(q *db.Queries) error {
		existing, err := q.GetUserByEmail(ctx, db.GetUserByEmailParams{Email: email, Aud: Audience})
		switch {
		case err == nil && existing.EmailConfirmedAt.Valid:
			if s.cfg.MailerAutoconfirm {
				return unprocessable(CodeUserAlreadyExists, "User already registered")
			}
			// Answer as for a new user, with a fake one, so sign-up does not
			// reveal which addresses have accounts.
			if err := s.audit(ctx, q, existing.ID, email, actionRepeatedSignup, nil); err != nil {
				return err
			}
			res.User = fakeUser(email, p.Data)
			return nil
		case err == nil:
			// Not confirmed yet: send the confirmation again.
			if err := s.checkMailFrequency(existing.ConfirmationSentAt); err != nil {
				return err
			}
			if err := s.sendMail(ctx, q, &existing, MailSignup, email, pkce, p.RedirectTo); err != nil {
				return err
			}
			if err := s.audit(ctx, q, existing.ID, email, actionConfirmationReq, nil); err != nil {
				return err
			}
			res.User, err = s.withIdentities(ctx, q, existing)
			return err
		case !notFound(err):
			return err
		}

		u, err := s.createUser(ctx, q, newUser{
			Email: email, PasswordHash: hash, UserMetadata: p.Data, Confirmed: s.cfg.MailerAutoconfirm, Provider: "email",
		})
		if err != nil {
			return err
		}
		if err := s.audit(ctx, q, u.ID, email, actionSignup, map[string]any{"provider": "email"}); err != nil {
			return err
		}
		if s.cfg.MailerAutoconfirm {
			res.Session, err = s.newSession(ctx, q, u, amrPassword)
			return err
		}
		if err := s.sendMail(ctx, q, &u, MailSignup, email, pkce, p.RedirectTo); err != nil {
			return err
		}
		res.User, err = s.withIdentities(ctx, q, u)
		return err
	})
	return res, err
}

func (s *Service) signupAnonymously(ctx context.Context, p SignupParams) (SignupResult, error) {
	if err := s.limitIP(metaFrom(ctx), limitAnonymous); err != nil {
		return SignupResult{}, err
	}
	if !s.cfg.AnonymousUsers {
		return SignupResult{}, unprocessable(CodeAnonymousProviderDisabled, "Anonymous sign-ins are disabled")
	}
	if s.cfg.DisableSignup {
		return SignupResult{}, unprocessable(CodeSignupDisabled, "Signups not allowed for this instance")
	}
	var res SignupResult
	err := s.inTx(ctx, func(q *db.Queries) error {
		u, err := s.createUser(ctx, q, newUser{UserMetadata: p.Data, Anonymous: true})
		if err != nil {
			return err
		}
		if err := s.audit(ctx, q, u.ID, "", actionSignup, map[string]any{"provider": "anonymous"}); err != nil {
			return err
		}
		res.Session, err = s.newSession(ctx, q, u, amrAnonymous)
		return err
	})
	return res, err
}

// newUser describes a user to insert.
type newUser struct {
	ID           uuid.UUID
	Email        string
	PasswordHash string
	UserMetadata map[string]any
	AppMetadata  map[string]any
	Role         string
	Confirmed    bool
	Invited      bool
	Anonymous    bool
	Provider     string
	BannedUntil  *time.Time
}

// createUser inserts a user and, for e-mail users, its e-mail identity.
func (s *Service) createUser(ctx context.Context, q *db.Queries, n newUser) (db.AuthUser, error) {
	if n.ID == uuid.Nil {
		n.ID = uuid.New()
	}
	if n.Role == "" {
		n.Role = DefaultRole
	}
	app := map[string]any{}
	for k, v := range n.AppMetadata {
		app[k] = v
	}
	if n.Provider != "" {
		app["provider"] = n.Provider
		app["providers"] = []string{n.Provider}
	}
	meta := n.UserMetadata
	if meta == nil {
		meta = map[string]any{}
	}
	p := db.InsertUserParams{
		ID: n.ID, Aud: ptr(Audience), Role: &n.Role,
		RawAppMetaData: mustJSON(app), RawUserMetaData: mustJSON(meta), IsAnonymous: n.Anonymous,
	}
	if n.Email != "" {
		p.Email = &n.Email
	}
	if n.PasswordHash != "" {
		p.EncryptedPassword = &n.PasswordHash
	} else {
		p.EncryptedPassword = ptr("")
	}
	now := time.Now()
	if n.Confirmed {
		p.EmailConfirmedAt = ts(now)
	}
	if n.Invited {
		p.InvitedAt = ts(now)
	}
	if n.BannedUntil != nil {
		p.BannedUntil = ts(*n.BannedUntil)
	}
	u, err := q.InsertUser(ctx, p)
	if isUniqueViolation(err) {
		return db.AuthUser{}, unprocessable(CodeEmailExists, "A user with this email address has already been registered")
	} else if err != nil {
		return db.AuthUser{}, databaseError("saving new user", err)
	}
	if n.Email != "" {
		if _, err := q.InsertIdentity(ctx, db.InsertIdentityParams{
			ID: uuid.New(), ProviderID: u.ID.String(), UserID: u.ID, Provider: "email",
			IdentityData: mustJSON(identityData(u.ID, n.Email, n.Confirmed)),
		}); err != nil {
			return db.AuthUser{}, databaseError("saving new user", err)
		}
	}
	return u, nil
}

func identityData(id uuid.UUID, email string, verified bool) map[string]any {
	return map[string]any{"sub": id.String(), "email": email, "email_verified": verified, "phone_verified": false}
}

// fakeUser is the answer to a repeated sign-up when confirmations are on:
// shaped like a new user, with a random id and no identities.
func fakeUser(email string, data map[string]any) *User {
	now := time.Now().UTC()
	if data == nil {
		data = map[string]any{}
	}
	return &User{
		ID: uuid.New(), Aud: Audience, Role: DefaultRole, Email: email,
		ConfirmationSentAt: &now, CreatedAt: now, UpdatedAt: now,
		AppMetadata:  map[string]any{"provider": "email", "providers": []string{"email"}},
		UserMetadata: data, Identities: []Identity{},
	}
}

// randomPassword is the password of users created by magic link or invite,
// who sign in without one until they set it.
func randomPassword() string { return rand.Text() + rand.Text() }
