// Package pgstack is a PostgreSQL-native backend platform: auth, a
// PostgREST-compatible REST API, live queries and edge functions in one
// binary. This file holds the code-generation steps; `go generate ./...`
// rewrites gen/ from openapi/, queries/ and migrations/.
package pgstack

//go:generate go tool oapi-codegen -config oapi-config.yaml -package admin -o gen/api/admin/admin.gen.go openapi/admin.yaml
//go:generate go tool oapi-codegen -config oapi-config.yaml -package functions -o gen/api/functions/functions.gen.go openapi/functions.yaml
//go:generate go tool oapi-codegen -config oapi-config.yaml -package auth -o gen/api/auth/auth.gen.go openapi/auth.yaml
//go:generate go tool sqlc generate -f sqlc.yaml
