package functionscli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pgstack/pgstack/runtimes"
)

// scaffolds are the files `functions new` writes, per runtime.
var scaffolds = map[string]struct{ file, text string }{
	runtimes.Deno: {"index.ts", `// A Supabase-compatible edge function, served by the edge runtime at
// EDGE_RUNTIME_URL. Deploy: pgstack functions deploy {{name}} --runtime deno

Deno.serve(async (req) => {
  const { name } = await req.json()
  const data = {
    message: ` + "`Hello ${name}!`" + `,
    role: req.headers.get("x-pgstack-role"),
  }
  return new Response(JSON.stringify(data), { headers: { "Content-Type": "application/json" } })
})
`},
	runtimes.Embedded: {"index.ts", `// An embedded function: JavaScript run inside pgStack. handler receives the
// request (body, method, headers, query, role, sub, claims) and returns the
// JSON response. db.query(sql, ...params) runs as the caller: RLS applies.
// Deploy: pgstack functions deploy {{name}} --runtime embedded

async function handler(request) {
  const name = (request.body && request.body.name) || "world"
  const [row] = await db.query("select now() as at")
  console.log("hello from", request.role)
  return { message: "Hello " + name + "!", role: request.role, at: row.at }
}
`},
	runtimes.PLPython: {"index.py", `# A PL/Python function: the body of pgstack.fn_{{name}}(body jsonb), run in the
# database as the caller (RLS applies to plpy.execute). body is the parsed
# request JSON; the returned value is the JSON response.
# Deploy: pgstack functions deploy {{name}} --runtime plpython

name = body.get("name", "world") if isinstance(body, dict) else "world"
role = plpy.execute("select current_user as role")[0]["role"]
return {"message": "Hello %s!" % name, "role": role}
`},
	runtimes.PLV8: {"index.js", `// A PL/v8 function: the body of pgstack.fn_{{name}}(body jsonb), run in the
// database as the caller. body is the request JSON; return the response value.
// Deploy: pgstack functions deploy {{name}} --runtime plv8

const name = (body && body.name) || "world";
const role = plv8.execute("select current_user as role")[0].role;
return { message: "Hello " + name + "!", role: role };
`},
}

func (o *options) scaffold(name string) error {
	runtime := o.runtime
	if runtime == "" {
		runtime = runtimes.Deno
	}
	s, ok := scaffolds[runtime]
	if !ok {
		return fmt.Errorf("functions new: no template for runtime %q (embedded, deno, plpython or plv8)", runtime)
	}
	dir := filepath.Join(o.dir, name)
	path := filepath.Join(dir, s.file)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already exists", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(s.text, "{{name}}", name)), 0o644); err != nil {
		return err
	}
	_, err := fmt.Fprintf(o.env.Out, "created %s\n", path)
	return err
}
