package runtimes

import (
	"errors"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

var errClosedPool = puddle.ErrClosedPool

// isFatalConnectError reports errors after which reconnecting is pointless:
// the database no longer exists, or the login is refused.
func isFatalConnectError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "3D000", "28P01", "28000": // invalid_catalog_name, invalid_password, invalid_authorization_specification
			return true
		}
	}
	return false
}

func sortFunctions(fns []Function) {
	slices.SortFunc(fns, func(a, b Function) int { return strings.Compare(a.Name, b.Name) })
}
