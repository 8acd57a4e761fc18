// Edge functions through the real @supabase/functions-js, as an application
// calls them: supabase.functions.invoke(name, { body, method, headers }).
// The Go test (runtimes/client_test.go) deploys `todos-<runtime>` for the
// embedded, plpython, deno and http runtimes and passes the keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';
import { FunctionsClient, FunctionsHttpError, FunctionsRelayError } from '@supabase/functions-js';

const url = process.env.PGSTACK_URL;
const anonKey = process.env.PGSTACK_ANON_KEY;
const userToken = process.env.PGSTACK_USER_TOKEN;
const userId = process.env.PGSTACK_USER_ID;

const anon = createClient(url, anonKey);
const user = createClient(url, anonKey, { accessToken: async () => userToken });

for (const runtime of ['embedded', 'plpython', 'deno', 'http']) {
  test(`${runtime}: invoke() with a JSON body answers as the signed-in user`, async () => {
    const { data, error, response } = await user.functions.invoke(`todos-${runtime}`, { body: { name: 'Ada' } });
    assert.equal(error, null);
    assert.equal(response.status, 200);
    assert.equal(data.role, 'authenticated');
    assert.equal(data.sub, userId);
    const proxied = runtime === 'deno' || runtime === 'http';
    assert.equal(proxied ? data.body.name : data.name, 'Ada');
    if (runtime === 'embedded' || runtime === 'plpython') {
      assert.deepEqual(data.titles, ['alice 1', 'alice 2'], 'RLS shows only the user\'s rows');
    }
  });

  test(`${runtime}: GET with the anon key runs as anon`, async () => {
    const { data, error } = await anon.functions.invoke(`todos-${runtime}`, { method: 'GET' });
    assert.equal(error, null);
    assert.equal(data.role, 'anon');
    if (runtime === 'embedded' || runtime === 'plpython') assert.deepEqual(data.titles, []);
  });

  test(`${runtime}: a client-sent x-pgstack-role changes nothing`, async () => {
    const { data, error } = await anon.functions.invoke(`todos-${runtime}`, {
      body: {}, headers: { 'x-pgstack-role': 'service_role' },
    });
    assert.equal(error, null);
    assert.equal(data.role, 'anon');
  });

  test(`${runtime}: no token is a relay error (401)`, async () => {
    const bare = new FunctionsClient(`${url}/functions/v1`);
    const { data, error } = await bare.invoke(`todos-${runtime}`, { body: {} });
    assert.equal(data, null);
    assert.ok(error instanceof FunctionsRelayError, `got ${error?.name}`);
    assert.equal(error.context.status, 401);
  });
}

test('an unknown function is a relay error (404)', async () => {
  const { error } = await anon.functions.invoke('does-not-exist', { body: {} });
  assert.ok(error instanceof FunctionsRelayError, `got ${error?.name}`);
  assert.equal(error.context.status, 404);
});

test('a thrown error is the function\'s own error, readable from error.context', async () => {
  const { data, error } = await anon.functions.invoke('throws', { body: {} });
  assert.equal(data, null);
  assert.ok(error instanceof FunctionsHttpError, `got ${error?.name}`);
  assert.equal(error.context.status, 500);
  assert.deepEqual(await error.context.json(), { code: 'function_error', message: 'boom' });
});

test('a text body reaches an embedded function as a string', async () => {
  const { data, error } = await anon.functions.invoke('echo-body', { body: 'plain text' });
  assert.equal(error, null);
  assert.equal(data, 'plain text');
});

test('a body over MAX_BODY_SIZE is rejected with 413', async () => {
  const { error } = await anon.functions.invoke('echo-body', { body: 'x'.repeat(2 * 1024 * 1024) });
  assert.ok(error, 'an error');
  assert.equal(error.name, 'FunctionsRelayError', 'the proxy refused it, not the function');
  assert.equal(error.context.status, 413);
});

test('PUT, PATCH and DELETE reach the function with their method', async () => {
  for (const method of ['PUT', 'PATCH', 'DELETE']) {
    const { data, error } = await user.functions.invoke('todos-embedded', { method, body: { name: 'Ada' } });
    assert.equal(error, null, method);
    assert.equal(data.method, method);
  }
});
