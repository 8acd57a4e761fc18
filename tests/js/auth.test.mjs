// supabase-js auth against pgStack's /auth/v1, with the mail the server sent
// read back through a route the Go test adds (/test/mail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@supabase/supabase-js';

const url = process.env.PGSTACK_URL;
const anonKey = process.env.PGSTACK_ANON_KEY;
const serviceKey = process.env.PGSTACK_SERVICE_KEY;
const password = 'correct horse battery';

function memoryStorage() {
  const m = new Map();
  return {
    getItem: (k) => (m.has(k) ? m.get(k) : null),
    setItem: (k, v) => { m.set(k, v); },
    removeItem: (k) => { m.delete(k); },
  };
}

function client(options = {}) {
  return createClient(url, anonKey, {
    auth: { storage: memoryStorage(), persistSession: true, autoRefreshToken: false, detectSessionInUrl: false, ...options },
  });
}

const admin = createClient(url, serviceKey, { auth: { persistSession: false, autoRefreshToken: false } });

async function lastMail(to) {
  const res = await fetch(`${url}/test/mail?to=${encodeURIComponent(to)}`);
  assert.equal(res.status, 200, `no mail to ${to}`);
  return res.json();
}

let n = 0;
const email = (tag) => `${tag}-${Date.now()}-${n++}@example.com`;

test('signUp returns a session, getUser the user', async () => {
  const c = client();
  const address = email('signup');
  const { data, error } = await c.auth.signUp({ email: address, password, options: { data: { name: 'Ada' } } });
  assert.equal(error, null);
  assert.ok(data.session?.access_token && data.session.refresh_token && data.session.expires_at);
  assert.equal(data.user.email, address);
  assert.equal(data.user.user_metadata.name, 'Ada');
  assert.equal(data.user.app_metadata.provider, 'email');
  assert.equal(data.user.identities.length, 1);

  const got = await c.auth.getUser();
  assert.equal(got.error, null);
  assert.equal(got.data.user.id, data.user.id);
});

test('signUp errors: duplicate e-mail and weak password', async () => {
  const c = client();
  const address = email('dup');
  assert.equal((await c.auth.signUp({ email: address, password })).error, null);
  const dup = await c.auth.signUp({ email: address, password });
  assert.equal(dup.error?.code, 'user_already_exists');
  assert.equal(dup.error?.status, 422);

  const weak = await c.auth.signUp({ email: email('weak'), password: '123' });
  assert.equal(weak.error?.code, 'weak_password');
  assert.equal(weak.error?.name, 'AuthWeakPasswordError');
  assert.deepEqual(weak.error?.reasons, ['length']);
});

test('signInWithPassword, wrong password, updateUser and refreshSession', async () => {
  const c = client();
  const address = email('signin');
  await c.auth.signUp({ email: address, password });

  const wrong = await c.auth.signInWithPassword({ email: address, password: 'not the password' });
  assert.equal(wrong.error?.code, 'invalid_credentials');
  assert.equal(wrong.error?.status, 400);

  const { data, error } = await c.auth.signInWithPassword({ email: address, password });
  assert.equal(error, null);
  assert.equal(data.user.email, address);
  assert.equal(data.session.token_type, 'bearer');

  const meta = await c.auth.updateUser({ data: { theme: 'dark' } });
  assert.equal(meta.error, null);
  assert.equal(meta.data.user.user_metadata.theme, 'dark');

  const pw = await c.auth.updateUser({ password: 'another password' });
  assert.equal(pw.error, null);
  const again = await client().auth.signInWithPassword({ email: address, password: 'another password' });
  assert.equal(again.error, null);

  const before = (await c.auth.getSession()).data.session;
  const refreshed = await c.auth.refreshSession();
  assert.equal(refreshed.error, null);
  assert.ok(refreshed.data.session.access_token);
  assert.notEqual(refreshed.data.session.refresh_token, before.refresh_token);
  assert.equal(refreshed.data.user.email, address);
});

test('a refresh token reused after the reuse interval is refused', async () => {
  const c = client();
  const { data } = await c.auth.signUp({ email: email('reuse'), password });
  const first = data.session.refresh_token;
  const second = await c.auth.refreshSession();
  assert.equal(second.error, null);
  const third = await c.auth.refreshSession();
  assert.equal(third.error, null);
  const stolen = await client().auth.refreshSession({ refresh_token: first });
  assert.equal(stolen.error?.code, 'refresh_token_already_used');
  // The whole session is revoked with it.
  const after = await client().auth.refreshSession({ refresh_token: third.data.session.refresh_token });
  assert.ok(after.error);
});

test('signOut with each scope', async () => {
  const address = email('scopes');
  await client().auth.signUp({ email: address, password });
  const signedIn = async () => {
    const c = client();
    const { error } = await c.auth.signInWithPassword({ email: address, password });
    assert.equal(error, null);
    return c;
  };
  const [a, b, c] = [await signedIn(), await signedIn(), await signedIn()];

  assert.equal((await a.auth.signOut({ scope: 'others' })).error, null);
  assert.equal((await a.auth.getUser()).error, null);
  assert.equal((await b.auth.getUser()).error?.name, 'AuthSessionMissingError');
  assert.ok((await c.auth.getUser()).error);

  assert.equal((await a.auth.signOut({ scope: 'local' })).error, null);
  assert.equal((await a.auth.getSession()).data.session, null);

  const d = await signedIn();
  const e = await signedIn();
  assert.equal((await d.auth.signOut()).error, null);
  assert.equal((await e.auth.getUser()).error?.name, 'AuthSessionMissingError');
});

test('resetPasswordForEmail, then verifyOtp with the link from the mail', async () => {
  const address = email('reset');
  await client().auth.signUp({ email: address, password });
  const c = client();
  const { error } = await c.auth.resetPasswordForEmail(address, { redirectTo: 'http://app.test/reset' });
  assert.equal(error, null);
  const mail = await lastMail(address);
  const tokenHash = new URL(mail.link).searchParams.get('token');
  assert.ok(tokenHash);

  const verified = await c.auth.verifyOtp({ token_hash: tokenHash, type: 'recovery' });
  assert.equal(verified.error, null);
  assert.equal(verified.data.user.email, address);
  assert.ok(verified.data.session.access_token);

  assert.equal((await c.auth.updateUser({ password: 'recovered password' })).error, null);
  assert.equal((await client().auth.signInWithPassword({ email: address, password: 'recovered password' })).error, null);
});

test('resend answers without revealing whether an address exists', async () => {
  const c = client();
  const { error } = await c.auth.resend({ type: 'signup', email: email('resend') });
  assert.equal(error, null);
});

test('signInWithOtp, then verifyOtp with the code from the mail', async () => {
  const address = email('otp');
  const c = client();
  assert.equal((await c.auth.signInWithOtp({ email: address })).error, null);
  const mail = await lastMail(address);
  const { data, error } = await c.auth.verifyOtp({ email: address, token: mail.otp, type: 'email' });
  assert.equal(error, null);
  assert.equal(data.user.email, address);
  assert.ok(data.user.email_confirmed_at);
});

test('updateUser with a new e-mail, confirmed at both addresses with verifyOtp', async () => {
  const c = client();
  const oldAddress = email('change-old');
  const newAddress = email('change-new');
  await c.auth.signUp({ email: oldAddress, password });
  const requested = await c.auth.updateUser({ email: newAddress });
  assert.equal(requested.error, null);
  assert.equal(requested.data.user.new_email, newAddress);

  const first = await c.auth.verifyOtp({ email: newAddress, token: (await lastMail(newAddress)).otp, type: 'email_change' });
  assert.equal(first.error, null);
  assert.equal(first.data.session, null);
  const second = await c.auth.verifyOtp({ email: oldAddress, token: (await lastMail(oldAddress)).otp, type: 'email_change' });
  assert.equal(second.error, null);
  assert.equal(second.data.user.email, newAddress);
  assert.equal((await c.auth.getUser()).data.user.email, newAddress);
});

test('signInAnonymously', async () => {
  const c = client();
  const { data, error } = await c.auth.signInAnonymously();
  assert.equal(error, null);
  assert.equal(data.user.is_anonymous, true);
  assert.ok(data.session.access_token);
  const claims = JSON.parse(Buffer.from(data.session.access_token.split('.')[1], 'base64url'));
  assert.equal(claims.is_anonymous, true);
  assert.equal(claims.role, 'authenticated');
});

test('PKCE: exchangeCodeForSession with the code from the recovery link', async () => {
  const address = email('pkce');
  await client().auth.signUp({ email: address, password });
  const c = client({ flowType: 'pkce' });
  assert.equal((await c.auth.resetPasswordForEmail(address, { redirectTo: 'http://app.test/reset' })).error, null);
  const mail = await lastMail(address);
  // The link points at API_EXTERNAL_URL; the test server listens elsewhere.
  const link = new URL(mail.link);
  const res = await fetch(url + link.pathname + link.search, { redirect: 'manual' });
  assert.equal(res.status, 303);
  const code = new URL(res.headers.get('location')).searchParams.get('code');
  assert.ok(code, res.headers.get('location'));

  const { data, error } = await c.auth.exchangeCodeForSession(code);
  assert.equal(error, null);
  assert.equal(data.user.email, address);
  assert.ok(data.session.refresh_token);
});

test('admin: create, list, get, update, generate a link, delete', async () => {
  const address = email('admin');
  const created = await admin.auth.admin.createUser({ email: address, password, email_confirm: true, user_metadata: { n: 1 } });
  assert.equal(created.error, null);
  const id = created.data.user.id;
  assert.ok(created.data.user.email_confirmed_at);

  const page = await admin.auth.admin.listUsers({ page: 1, perPage: 2 });
  assert.equal(page.error, null);
  assert.ok(page.data.users.length >= 1 && page.data.users.length <= 2);
  assert.ok(page.data.total >= 1);

  const got = await admin.auth.admin.getUserById(id);
  assert.equal(got.error, null);
  assert.equal(got.data.user.email, address);

  const updated = await admin.auth.admin.updateUserById(id, { user_metadata: { n: 2 }, app_metadata: { plan: 'pro' } });
  assert.equal(updated.error, null);
  assert.equal(updated.data.user.user_metadata.n, 2);
  assert.equal(updated.data.user.app_metadata.plan, 'pro');

  const link = await admin.auth.admin.generateLink({ type: 'magiclink', email: address });
  assert.equal(link.error, null);
  assert.match(link.data.properties.action_link, /\/auth\/v1\/verify\?/);
  assert.equal(link.data.properties.verification_type, 'magiclink');
  assert.equal(link.data.user.id, id);

  const signedIn = client();
  assert.equal((await signedIn.auth.signInWithPassword({ email: address, password })).error, null);
  const jwt = (await signedIn.auth.getSession()).data.session.access_token;
  assert.equal((await admin.auth.admin.signOut(jwt, 'global')).error, null);
  assert.equal((await signedIn.auth.getUser()).error?.name, 'AuthSessionMissingError');

  assert.equal((await admin.auth.admin.deleteUser(id)).error, null);
  const gone = await admin.auth.admin.getUserById(id);
  assert.equal(gone.error?.status, 404);

  const denied = await client().auth.admin.listUsers();
  assert.equal(denied.error?.code, 'not_admin');
});
