package auth

import (
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5/pgconn"
)

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// databaseError reports a statement that failed on the database's side,
// typically a trigger of the application on auth.users, with GoTrue's
// message; transient failures stay retryable.
func databaseError(what string, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	if t := transient(err); t != err {
		return t
	}
	return newError(http.StatusInternalServerError, CodeUnexpectedFailure, "Database error %s", what).withCause(err)
}
