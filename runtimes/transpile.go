package runtimes

import (
	"fmt"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// transpile turns an embedded function's source (TypeScript or JavaScript,
// script or module) into a script goja runs: types are stripped, syntax
// newer than ES2017 is lowered, and exports become CommonJS assignments to
// module.exports.
func transpile(name, source string) (string, error) {
	res := api.Transform(source, api.TransformOptions{
		Loader:     api.LoaderTS,
		Format:     api.FormatCommonJS,
		Target:     api.ES2017,
		Sourcefile: name + ".ts",
		LogLevel:   api.LogLevelSilent,
	})
	if len(res.Errors) > 0 {
		msgs := make([]string, 0, len(res.Errors))
		for _, m := range res.Errors {
			if m.Location != nil {
				msgs = append(msgs, fmt.Sprintf("line %d:%d: %s", m.Location.Line, m.Location.Column+1, m.Text))
			} else {
				msgs = append(msgs, m.Text)
			}
		}
		return "", deployErrorf("the source does not compile: %s", strings.Join(msgs, "; "))
	}
	return string(res.Code), nil
}
