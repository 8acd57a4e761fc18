// A PL/v8 function: the body of pgstack."fn_hello"(body jsonb), run in the
// database as the caller. Needs the plv8 extension (the db/Dockerfile image
// builds it).
//   pgstack functions deploy hello --runtime plv8 --dir examples/functions/plv8

const name = (body && body.name) || "world";
const me = plv8.execute("select current_user as role, auth.uid()::text as uid")[0];
return { message: "Hello " + name + "!", role: me.role, uid: me.uid };
