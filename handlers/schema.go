package handlers

import (
	"context"

	"github.com/pgstack/pgstack/gen/api/admin"
	"github.com/pgstack/pgstack/internal/dbschema"
	"github.com/pgstack/pgstack/internal/httperr"
)

// WithSchema gives the admin API the schema description.
func (a *Admin) WithSchema(s *dbschema.Service) *Admin {
	a.schema = s
	return a
}

// GetSchema describes the requested schemas (default REST_SCHEMAS).
func (a *Admin) GetSchema(ctx context.Context, req admin.GetSchemaRequestObject) (admin.GetSchemaResponseObject, error) {
	list := ""
	if req.Params.Schemas != nil {
		list = *req.Params.Schemas
	}
	schemas, err := a.schema.ParseSchemas(list)
	if err == nil {
		var out admin.DatabaseSchema
		if out, err = a.schema.Describe(ctx, schemas); err == nil {
			return admin.GetSchema200JSONResponse(out), nil
		}
	}
	if invalid, ok := dbschema.IsInvalidSchemas(err); ok {
		return admin.GetSchema400JSONResponse{ErrorJSONResponse: admin.ErrorJSONResponse{
			Code: httperr.CodeBadRequest, Message: invalid.Reason}}, nil
	}
	return nil, err
}
