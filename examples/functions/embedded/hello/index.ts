// An embedded function: JavaScript run inside pgStack (goja).
//   pgstack functions deploy hello --runtime embedded --dir examples/functions/embedded
//
// handler receives the request as plain data: body (parsed JSON), method,
// path, headers, query, role, sub and claims. db.query(sql, ...params) runs
// in one transaction as the caller, so row level security applies. The
// returned value is the JSON response; console.log goes to the function's
// logs (GET /api/functions/hello/logs).

async function handler(request) {
  const name = (request.body && request.body.name) || "world"
  const [me] = await db.query("select current_user as role, auth.uid() as uid")
  console.log("hello called by", me.role)
  return { message: `Hello ${name}!`, role: me.role, uid: me.uid }
}
