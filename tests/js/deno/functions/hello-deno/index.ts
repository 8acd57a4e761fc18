// A Supabase-style function: Deno.serve at the top level. It echoes what
// pgStack forwarded; /hello-deno/stream answers server-sent events and keeps
// the stream open until the client goes away.
Deno.serve(async (req: Request) => {
  const url = new URL(req.url);
  if (url.pathname.endsWith('/stream')) {
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('data: first\n\n'));
      },
    });
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
  }
  if (url.pathname.endsWith('/teapot')) {
    return Response.json({ error: 'short and stout' }, { status: 418 });
  }
  const text = req.method === 'POST' ? await req.text() : '';
  const claims = req.headers.get('x-pgstack-claims');
  return Response.json({
    runtime: 'deno',
    method: req.method,
    path: url.pathname,
    search: url.search,
    role: req.headers.get('x-pgstack-role'),
    sub: req.headers.get('x-pgstack-sub'),
    claims: claims ? JSON.parse(claims) : null,
    body: text ? JSON.parse(text) : null,
  });
});
