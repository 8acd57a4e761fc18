// A Supabase edge function, unchanged: served by the Supabase edge runtime
// at EDGE_RUNTIME_URL (see docker-compose.yml), reached through pgStack.
//   pgstack functions deploy hello --runtime deno --dir examples/functions/deno
//
// pgStack verifies the caller's JWT and forwards the request with the
// identity in X-Pgstack-Role, X-Pgstack-Sub and X-Pgstack-Claims.

Deno.serve(async (req) => {
  const { name } = req.method === "POST" ? await req.json() : { name: "world" }
  const data = {
    message: `Hello ${name}!`,
    role: req.headers.get("x-pgstack-role"),
    uid: req.headers.get("x-pgstack-sub"),
  }
  return new Response(JSON.stringify(data), { headers: { "Content-Type": "application/json" } })
})
