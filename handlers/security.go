package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/pgstack/pgstack/internal/httperr"
	"github.com/pgstack/pgstack/internal/identity"
	"github.com/pgstack/pgstack/internal/jwt"
)

// ServiceRoleScheme is the security scheme that admits only the service role.
const ServiceRoleScheme = "serviceRole"

// StrictHandlerFunc and StrictMiddlewareFunc mirror the generated strict
// middleware types, which are identical in every gen/api package.
type (
	StrictHandlerFunc    = func(ctx context.Context, w http.ResponseWriter, r *http.Request, request any) (any, error)
	StrictMiddlewareFunc = func(f StrictHandlerFunc, operationID string) StrictHandlerFunc
)

// Authorize enforces the security requirements the spec declares for each
// operation, so the spec stays the one place that says who may call what.
// Operations without requirements run as they are; the others resolve the
// caller's token and need the role their scheme names.
func Authorize(spec *openapi3.T, keys *jwt.Keys) (StrictMiddlewareFunc, error) {
	required := map[string]string{} // lower-cased operation id -> role
	for _, path := range spec.Paths.InMatchingOrder() {
		for _, op := range spec.Paths.Value(path).Operations() {
			reqs := spec.Security
			if op.Security != nil {
				reqs = *op.Security
			}
			for _, req := range reqs {
				for scheme := range req {
					if scheme != ServiceRoleScheme {
						return nil, fmt.Errorf("operation %s: unknown security scheme %q", op.OperationID, scheme)
					}
					required[strings.ToLower(op.OperationID)] = jwt.RoleServiceRole
				}
			}
		}
	}
	return func(f StrictHandlerFunc, operationID string) StrictHandlerFunc {
		role, ok := required[strings.ToLower(operationID)]
		if !ok {
			return f
		}
		return func(ctx context.Context, w http.ResponseWriter, r *http.Request, request any) (any, error) {
			id, err := identity.Resolve(keys, r)
			if err != nil {
				return nil, err
			}
			if id.Role != role {
				if id.Role == jwt.RoleAnon {
					return nil, httperr.Unauthorized(httperr.CodeUnauthorized, "this operation needs the %s key", role)
				}
				return nil, httperr.Forbidden(httperr.CodeForbidden, "role %s may not call this operation", id.Role)
			}
			ctx = identity.With(ctx, id)
			return f(ctx, w, r.WithContext(ctx), request)
		}
	}, nil
}
