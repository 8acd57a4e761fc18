# A PL/Python function: the body of pgstack."fn_hello"(body jsonb), run in the
# database as the caller (RLS applies to plpy.execute).
#   pgstack functions deploy hello --runtime plpython --dir examples/functions/plpython
#
# body is the request JSON, parsed (dict, list, str, number or None); the
# returned value becomes the JSON response. PL/Python is untrusted: only the
# service role can deploy it, and it can do anything the database server's
# operating-system user can.

name = body.get("name", "world") if isinstance(body, dict) else "world"
me = plpy.execute("select current_user as role, auth.uid()::text as uid")[0]
return {"message": "Hello %s!" % name, "role": me["role"], "uid": me["uid"]}
