package auth_test

import (
	"context"
	"testing"

	"github.com/pgstack/pgstack/internal/apitest"
)

// The trigger almost every Supabase project has: a profile row per new
// user, filled from the sign-up metadata, works unchanged.
func TestTriggersOnAuthUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.Pools.Owner.Exec(ctx, `
		create table public.profiles (id uuid primary key references auth.users on delete cascade, email text, full_name text);
		create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
		begin
		  if new.raw_user_meta_data->>'full_name' = 'reject me' then
		    raise exception 'profile check failed';
		  end if;
		  insert into public.profiles (id, email, full_name) values (new.id, new.email, new.raw_user_meta_data->>'full_name');
		  return new;
		end $$;
		create trigger on_auth_user_created after insert on auth.users for each row execute procedure public.handle_new_user();`); err != nil {
		t.Fatal(err)
	}
	s := e.call(t, apitest.Scenario{Name: "sign up", Method: "POST", URL: "/auth/v1/signup",
		Body: `{"email":"trig@example.com","password":"` + password + `","data":{"full_name":"Grace Hopper"}}`, WantStatus: 200})
	var email, name string
	if err := e.Pools.Owner.QueryRow(ctx, `SELECT email, full_name FROM public.profiles WHERE id = $1`, field(s, "user", "id")).Scan(&email, &name); err != nil {
		t.Fatal(err)
	}
	if email != "trig@example.com" || name != "Grace Hopper" {
		t.Errorf("profile = %s, %s", email, name)
	}
	// A failing trigger rolls the sign-up back and says so, without the
	// database's message.
	e.call(t, apitest.Scenario{Name: "trigger fails", Method: "POST", URL: "/auth/v1/signup",
		Body:       `{"email":"reject@example.com","password":"` + password + `","data":{"full_name":"reject me"}}`,
		WantStatus: 500, WantBody: []string{`"code":"unexpected_failure"`, "Database error saving new user", `"error_id":"`},
		WantNotBody: []string{"profile check failed"}})
	var n int
	_ = e.Pools.Owner.QueryRow(ctx, `SELECT count(*) FROM auth.users WHERE email = 'reject@example.com'`).Scan(&n)
	if n != 0 {
		t.Error("the failed sign-up left a user behind")
	}
}
