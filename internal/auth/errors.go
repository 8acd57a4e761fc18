package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5/pgconn"
)

// GoTrue's error codes (the subset pgStack emits). They are part of the
// public contract: @supabase/auth-js exposes them as error.code.
const (
	CodeValidationFailed          = "validation_failed"
	CodeBadJSON                   = "bad_json"
	CodeInvalidCredentials        = "invalid_credentials"
	CodeEmailNotConfirmed         = "email_not_confirmed"
	CodeUserBanned                = "user_banned"
	CodeUserAlreadyExists         = "user_already_exists"
	CodeEmailExists               = "email_exists"
	CodeWeakPassword              = "weak_password"
	CodeSamePassword              = "same_password"
	CodeSignupDisabled            = "signup_disabled"
	CodePhoneProviderDisabled     = "phone_provider_disabled"
	CodeAnonymousProviderDisabled = "anonymous_provider_disabled"
	CodeOTPDisabled               = "otp_disabled"
	CodeOTPExpired                = "otp_expired"
	CodeRefreshTokenNotFound      = "refresh_token_not_found"
	CodeRefreshTokenAlreadyUsed   = "refresh_token_already_used"
	CodeSessionNotFound           = "session_not_found"
	CodeSessionExpired            = "session_expired"
	CodeNoAuthorization           = "no_authorization"
	CodeBadJWT                    = "bad_jwt"
	CodeNotAdmin                  = "not_admin"
	CodeUserNotFound              = "user_not_found"
	CodeFlowStateNotFound         = "flow_state_not_found"
	CodeFlowStateExpired          = "flow_state_expired"
	CodeBadCodeVerifier           = "bad_code_verifier"
	CodeOverRequestRateLimit      = "over_request_rate_limit"
	CodeOverEmailSendRateLimit    = "over_email_send_rate_limit"
	CodeConflict                  = "conflict"
	CodeRequestTimeout            = "request_timeout"
	CodeRequestTooLarge           = "request_entity_too_large"
	CodeNotFound                  = "not_found"
	CodeUnexpectedFailure         = "unexpected_failure"
	CodeEmailAddressInvalid       = "email_address_invalid"
)

// Error is an auth API error: the HTTP status, GoTrue's code and message, and
// for weak passwords the reasons. The cause is for logs only.
type Error struct {
	Status  int
	Code    string
	Message string
	// Reasons is set for weak_password: "length", "characters", "pwned".
	Reasons []string
	cause   error
}

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *Error {
	return newError(http.StatusBadRequest, code, format, args...)
}

func unprocessable(code, format string, args ...any) *Error {
	return newError(http.StatusUnprocessableEntity, code, format, args...)
}

func forbidden(code, format string, args ...any) *Error {
	return newError(http.StatusForbidden, code, format, args...)
}

func (e *Error) withCause(err error) *Error { e.cause = err; return e }

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Code, e.Message, e.cause)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.cause }

// errInvalidCredentials is the one answer for an unknown e-mail, a user
// without a password and a wrong password.
func errInvalidCredentials() *Error {
	return badRequest(CodeInvalidCredentials, "Invalid login credentials")
}

// transient maps database trouble a retry can fix to 503 (auth-js retries
// 502/503/504 on refresh instead of signing the user out) and a deadline to
// 504; anything else stays as it is and becomes a 500 at the boundary.
func transient(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(http.StatusGatewayTimeout, CodeRequestTimeout, "Processing this request timed out, please retry after a moment.").withCause(err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "55P03", pgErr.Code == "40001", pgErr.Code == "40P01", pgErr.Code == "57014":
			return newError(http.StatusServiceUnavailable, CodeConflict, "Concurrent requests for the same session, please retry.").withCause(err)
		case len(pgErr.Code) == 5 && (pgErr.Code[:2] == "08" || pgErr.Code[:2] == "53" || pgErr.Code[:2] == "57"):
			return newError(http.StatusServiceUnavailable, CodeUnexpectedFailure, "The database is temporarily unavailable, please retry.").withCause(err)
		}
		return err
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return newError(http.StatusServiceUnavailable, CodeUnexpectedFailure, "The database is temporarily unavailable, please retry.").withCause(err)
	}
	return err
}
