package server_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/parley-chat/parley"
)

// TestRecordChangeEvents: changing a ticket or deal through the API records
// a system event on its thread in the same commit, announced afterwards
// with what changed; a change that changes nothing, a refused change and a
// record on no thread record nothing (R5).
func TestRecordChangeEvents(t *testing.T) {
	e := newEnv(t, nil)
	admin := e.login("admin@example.com")
	bea := e.addAgent("bea@example.com", true)
	aws, _ := admin.agentWS()
	chat := crmStartChat(t, e, e.widget, "I'd like the Pro plan")
	deal := crmJSON(t, admin.do("POST", "/api/v1/contacts/"+chat.contact+"/records",
		map[string]any{"kind": "deal", "name": "Pro plan", "stage": "qualified", "threadId": chat.thread}, nil), 201)
	nextSystem(aws, parley.EventRecordCreated)
	loose := crmJSON(t, admin.do("POST", "/api/v1/contacts/"+chat.contact+"/records",
		map[string]any{"kind": "ticket", "name": "Call back"}, nil), 201)
	rpath := "/api/v1/records/" + deal["id"].(string)
	lastSeq := func() float64 {
		t.Helper()
		return crmJSON(t, admin.do("GET", v3+"/threads/"+chat.thread, nil, nil), 200)["lastSeq"].(float64)
	}
	seq := lastSeq()

	type change = map[string]any
	for _, tt := range []struct {
		name    string
		body    map[string]any
		changes []change
	}{
		{"stage", map[string]any{"stage": "won"}, []change{{"field": "stage", "from": "qualified", "to": "won"}}},
		{"amount and owner", map[string]any{"amount": "1200", "ownerId": bea.ActorID()},
			[]change{{"field": "amount", "from": "", "to": "1200"}, {"field": "owner", "from": "", "to": bea.ActorID()}}},
		{"name and no owner", map[string]any{"name": "Pro yearly", "ownerId": ""},
			[]change{{"field": "name", "from": "Pro plan", "to": "Pro yearly"}, {"field": "owner", "from": bea.ActorID(), "to": ""}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := crmJSON(t, admin.do("PATCH", rpath, tt.body, nil), 200)
			seq++
			// Announced on the inbox, after the commit, with the changes.
			m := nextSystem(aws, parley.EventRecordUpdated)
			want := fmt.Sprint("deal: ", got["name"])
			if m["text"] != want || m["seq"] != seq || m["senderActorId"] != "A-1" || m["threadId"] != chat.thread {
				t.Errorf("event=%v, want %q at seq %v on %s", m, want, seq, chat.thread)
			}
			if !reflect.DeepEqual(m["changes"], toAny(tt.changes)) {
				t.Errorf("changes=%v, want %v", m["changes"], tt.changes)
			}
			nextEvent(aws, "records.updated", "threadId", chat.thread)
			// Stored on the thread: the REST API shows it the same way.
			msgs := listOf(crmJSON(t, admin.do("GET", v3+"/threads/"+chat.thread+"/messages?limit=500", nil, nil), 200), "results")
			last := msgs[len(msgs)-1].(map[string]any)
			if last["type"] != "SYSTEM" || last["event"] != parley.EventRecordUpdated || last["text"] != want ||
				!reflect.DeepEqual(last["changes"], toAny(tt.changes)) {
				t.Errorf("stored message=%v", last)
			}
		})
	}

	t.Run("no change records nothing", func(t *testing.T) {
		got := crmJSON(t, admin.do("PATCH", rpath, map[string]any{"stage": "won", "name": "Pro yearly"}, nil), 200)
		if got["stage"] != "won" {
			t.Errorf("record=%v", got)
		}
		if s := lastSeq(); s != seq {
			t.Errorf("lastSeq=%v, want %v", s, seq)
		}
	})
	t.Run("refused change records nothing", func(t *testing.T) {
		crmError(t, admin.do("PATCH", rpath, map[string]any{"stage": "closed"}, nil), 400, "stage of a deal must be one of")
		crmError(t, admin.do("PATCH", rpath, map[string]any{"ownerId": "999"}, nil), 400, "not an active user")
		if s := lastSeq(); s != seq {
			t.Errorf("lastSeq=%v, want %v", s, seq)
		}
	})
	t.Run("record on no thread", func(t *testing.T) {
		got := crmJSON(t, admin.do("PATCH", "/api/v1/records/"+loose["id"].(string), map[string]any{"stage": "closed"}, nil), 200)
		if got["stage"] != "closed" {
			t.Errorf("record=%v", got)
		}
		if s := lastSeq(); s != seq {
			t.Errorf("lastSeq=%v, want %v", s, seq)
		}
	})
	// The next event on the socket is the next change: nothing was
	// announced in between.
	crmJSON(t, admin.do("PATCH", rpath, map[string]any{"stage": "lost"}, nil), 200)
	if m := nextSystem(aws, parley.EventRecordUpdated); !reflect.DeepEqual(m["changes"], toAny([]change{{"field": "stage", "from": "won", "to": "lost"}})) {
		t.Errorf("changes=%v after the refused and empty changes", m["changes"])
	}
}

// toAny turns a list of changes into what JSON decodes them to.
func toAny(cs []map[string]any) []any {
	out := make([]any, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}
