package live_test

import (
	"reflect"
	"testing"
	"time"
)

const carol = "00000000-0000-0000-0000-00000000000c"

const teamSchema = `
create table public.members (team int not null, member uuid not null, primary key (team, member));
create table public.notes (id int primary key, team int not null, title text not null);
alter table public.notes enable row level security;
create policy notes_team on public.notes using (exists (
  select 1 from public.members m where m.team = notes.team and m.member = (select auth.uid())));
grant select on public.members, public.notes to authenticated, service_role;
select pgr.register('team_notes', $$select id, team, title from public.notes$$, key => 'id');
`

// teamHelperSchema is teamSchema with the membership check in a SECURITY
// DEFINER SQL function, and no privilege on members for the subscribers.
const teamHelperSchema = `
create table public.members (team int not null, member uuid not null, primary key (team, member));
create table public.notes (id int primary key, team int not null, title text not null);
alter table public.notes enable row level security;
create function public.is_team_member(t int) returns boolean language sql stable security definer
  set search_path = '' as
$$ select exists (select 1 from public.members m where m.team = t and m.member = (select auth.uid())) $$;
create policy notes_team on public.notes using (public.is_team_member(team));
grant select on public.notes to authenticated, service_role;
grant select on public.members to service_role;
select pgr.register('team_notes', $$select id, team, title from public.notes$$, key => 'id');
`

// A team-membership policy is routed, written out or in a helper function:
// changes to notes reach the members of the note's old and new team
// (deletes included) and the service role, and nobody else's stream moves.
func TestTeamPolicyRoutesChangesToTeamMembers(t *testing.T) {
	t.Run("policy", func(t *testing.T) { testTeamPolicyRoutes(t, teamSchema) })
	t.Run("helper", func(t *testing.T) { testTeamPolicyRoutes(t, teamHelperSchema) })
}

func testTeamPolicyRoutes(t *testing.T, schema string) {
	e := newLiveEnvTB(t)
	e.exec(t, schema)
	if routed := e.queryInt(t, `select count(*) from pgr.queries where name = 'team_notes' and route`); routed != 1 {
		t.Fatal("team_notes is not routed by its policy")
	}
	e.exec(t, `insert into members values (1, $1), (2, $2)`, alice, bob)

	a := dial(t, e.url, e.UserToken(t, alice, time.Hour))
	b := dial(t, e.url, e.UserToken(t, bob, time.Hour))
	c := dial(t, e.url, e.UserToken(t, carol, time.Hour))
	svc := dial(t, e.url, e.ServiceKey)
	am := a.subscribe("n", "team_notes", nil)
	bm := b.subscribe("n", "team_notes", nil)
	cm := c.subscribe("n", "team_notes", nil)
	sm := svc.subscribe("n", "team_notes", nil)

	e.exec(t, `insert into notes values (1, 1, 'plan')`)
	a.waitUntil("alice sees 1", func() bool { return am.rows["1"] != nil })
	svc.waitUntil("the service role sees 1", func() bool { return sm.rows["1"] != nil })

	// Moving a note to another team: a delete for the old team, an insert
	// for the new one.
	e.exec(t, `update notes set team = 2 where id = 1`)
	a.waitUntil("1 leaves alice", func() bool { return am.rows["1"] == nil })
	b.waitUntil("1 reaches bob", func() bool { return bm.rows["1"] != nil })

	e.exec(t, `delete from notes where id = 1`)
	b.waitUntil("1 is deleted for bob", func() bool { return bm.rows["1"] == nil })
	svc.waitUntil("1 is deleted for the service role", func() bool { return sm.rows["1"] == nil })

	// Carol joins team 2: her first delta carries team 2's note, and only
	// it; nothing before it reached her.
	e.exec(t, `insert into notes values (2, 2, 'retro'), (3, 1, 'budget')`)
	b.waitUntil("bob sees 2", func() bool { return bm.rows["2"] != nil })
	e.exec(t, `insert into members values (2, $1)`, carol)
	c.waitUntil("carol sees 2", func() bool { return cm.rows["2"] != nil })
	if !reflect.DeepEqual(cm.versions, []int64{1}) || !reflect.DeepEqual(cm.keys(), []string{"2"}) {
		t.Fatalf("carol went through versions %v and holds %v; want [1] and [2]", cm.versions, cm.keys())
	}

	a.waitUntil("alice sees 3", func() bool { return am.rows["3"] != nil })
	svc.waitUntil("the service role sees 2 and 3", func() bool { return sm.rows["2"] != nil && sm.rows["3"] != nil })
	for name, m := range map[string]*materialized{"alice": am, "bob": bm, "service": sm} {
		for i, v := range m.versions {
			if v != int64(i+1) {
				t.Fatalf("%s's versions = %v, want contiguous from 1", name, m.versions)
			}
		}
	}
	if got := am.keys(); !reflect.DeepEqual(got, []string{"3"}) {
		t.Fatalf("alice holds %v, want [3]", got)
	}
	if len(a.errors)+len(b.errors)+len(c.errors)+len(svc.errors) > 0 {
		t.Fatalf("errors: %v %v %v %v", a.errors, b.errors, c.errors, svc.errors)
	}
}
