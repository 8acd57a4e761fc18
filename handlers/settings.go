package handlers

import (
	"context"

	"github.com/pgstack/pgstack/gen/api/admin"
)

// GetSettings returns the server's effective settings.
func (a *Admin) GetSettings(ctx context.Context, _ admin.GetSettingsRequestObject) (admin.GetSettingsResponseObject, error) {
	s, err := a.settings.Get(ctx)
	if err != nil {
		return nil, err
	}
	runtimes := make([]admin.RuntimeAvailability, 0, len(s.Runtimes))
	for _, rt := range s.Runtimes {
		r := admin.RuntimeAvailability{Name: admin.RuntimeAvailabilityName(rt.Name), Available: rt.Available}
		if rt.Reason != "" {
			r.Reason = &rt.Reason
		}
		runtimes = append(runtimes, r)
	}
	return admin.GetSettings200JSONResponse{
		Version:            s.Version,
		DatabaseVersion:    s.DatabaseVersion,
		JwtExpiry:          s.JWTExpirySeconds,
		RestSchemas:        s.RESTSchemas,
		MaxBodySize:        s.MaxBodySize,
		SqlEndpointEnabled: s.SQLEndpointEnabled,
		SiteUrl:            s.SiteURL,
		Runtimes:           runtimes,
	}, nil
}
