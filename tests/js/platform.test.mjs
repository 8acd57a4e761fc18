// The platform endpoints as a browser client sees them, with the real
// supabase-js client configured the way an application configures it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';

const url = process.env.PGSTACK_URL;
const anonKey = process.env.PGSTACK_ANON_KEY;

test('supabase-js accepts the pgStack URL and anon key', () => {
  const client = createClient(url, anonKey);
  assert.ok(client.auth, 'auth client');
  assert.equal(typeof client.from, 'function');
});

test('health answers with JSON', async () => {
  const res = await fetch(`${url}/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('a browser preflight with the headers supabase-js sends is allowed', async () => {
  const res = await fetch(`${url}/api/settings`, {
    method: 'OPTIONS',
    headers: {
      Origin: 'http://localhost:5173',
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'apikey,authorization,x-client-info',
    },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-headers').toLowerCase(), /apikey/);
});

test('the service key reads settings; the anon key may not', async () => {
  const ok = await fetch(`${url}/api/settings`, { headers: { apikey: process.env.PGSTACK_SERVICE_KEY } });
  assert.equal(ok.status, 200);
  const denied = await fetch(`${url}/api/settings`, { headers: { apikey: anonKey } });
  assert.equal(denied.status, 401);
  assert.equal((await denied.json()).code, 'unauthorized');
});
