package httperr

// Error codes of pgStack's own JSON error format (/api, /functions, and
// errors raised before a request reaches a route). Stable: clients match on them.
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidToken     = "invalid_token"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeBodyTooLarge     = "request_too_large"
	CodeTimeout          = "request_timeout"
	CodeUnavailable      = "service_unavailable"
	CodeInternal         = "internal_error"
)
