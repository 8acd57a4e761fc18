// A stand-in for the Supabase edge runtime in tests: serves every function
// in ./functions/<name>/index.ts at /<name>/..., routing on the first path
// segment as edge-runtime's main service does. Each function's top-level
// Deno.serve(handler) is captured instead of listening. It prints
// "listening <port>" once it accepts connections.
type Handler = (req: Request) => Response | Promise<Response>;

const handlers = new Map<string, Handler>();
const realServe = Deno.serve;

async function load(name: string): Promise<Handler | undefined> {
  if (handlers.has(name)) return handlers.get(name);
  let captured: Handler | undefined;
  // deno-lint-ignore no-explicit-any
  (Deno as any).serve = (a: any, b?: any) => {
    captured = typeof a === 'function' ? a : (b ?? a.handler);
    return { finished: new Promise(() => {}), shutdown() {}, ref() {}, unref() {}, addr: {} };
  };
  try {
    await import(new URL(`./functions/${name}/index.ts`, import.meta.url).href);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || String(e).includes('Module not found')) return undefined;
    throw e;
  } finally {
    // deno-lint-ignore no-explicit-any
    (Deno as any).serve = realServe;
  }
  if (captured) handlers.set(name, captured);
  return captured;
}

realServe({
  hostname: '127.0.0.1',
  port: 0,
  onListen: ({ port }) => console.log(`listening ${port}`),
}, async (req) => {
  const name = new URL(req.url).pathname.split('/')[1];
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    return Response.json({ msg: 'missing function name in request' }, { status: 400 });
  }
  try {
    const handler = await load(name);
    if (!handler) return Response.json({ msg: 'Function not found' }, { status: 404 });
    return await handler(req);
  } catch (e) {
    return Response.json({ msg: String(e) }, { status: 500 });
  }
});
