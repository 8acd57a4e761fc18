// The main service of a Supabase edge runtime behind pgStack (see the
// commented `functions` service in docker-compose.yml): copy it to
// supabase/functions/main/index.ts. It routes /<name>/... to a user worker
// running supabase/functions/<name>, as Supabase's own main service does.
// pgStack has already verified the caller's JWT (per function verify_jwt) and
// set X-Pgstack-Role, X-Pgstack-Sub and X-Pgstack-Claims; keep this runtime
// on a network only pgStack can reach.

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/

// Worker environment: everything but the runtime's own secrets.
const envVars = Object.entries(Deno.env.toObject()).filter(
  ([k]) => !k.startsWith("SUPABASE_INTERNAL_") && k !== "JWT_SECRET",
)

Deno.serve(async (req: Request) => {
  const name = new URL(req.url).pathname.split("/")[1]
  if (!name || name === "main" || !NAME.test(name)) {
    return Response.json({ msg: "missing function name in request" }, { status: 400 })
  }
  try {
    // deno-lint-ignore no-explicit-any
    const worker = await (globalThis as any).EdgeRuntime.userWorkers.create({
      servicePath: `/home/deno/functions/${name}`,
      memoryLimitMb: 150,
      workerTimeoutMs: 60_000,
      cpuTimeSoftLimitMs: 10_000,
      cpuTimeHardLimitMs: 20_000,
      noModuleCache: false,
      envVars,
    })
    return await worker.fetch(req)
  } catch (e) {
    const msg = String(e)
    const status = msg.includes("not found") || msg.includes("NotFound") ? 404 : 500
    return Response.json({ msg }, { status })
  }
})
