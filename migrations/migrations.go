// Package migrations embeds the platform schema: the roles, the auth schema
// and the pgstack schema, as goose SQL migrations. sqlc reads the same files
// as the schema of gen/db.
package migrations

import "embed"

// FS holds the migration files.
//
//go:embed *.sql
var FS embed.FS
