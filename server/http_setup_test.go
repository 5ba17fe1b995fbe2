package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/server"
)

func TestSetupLink(t *testing.T) {
	e := newEnv(t, nil)
	token, err := server.NewSetupToken(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{e: e, hc: e.ts.Client()}
	page := c.do("GET", "/setup?token="+token, nil, nil)
	if page.status != 200 || !strings.Contains(string(page.body), `data-token="`+token+`"`) {
		t.Fatalf("setup page: %d", page.status)
	}
	// HTML in the token is escaped, not rendered.
	if evil := c.do("GET", `/setup?token="><script>x</script>`, nil, nil); strings.Contains(string(evil.body), "<script>x") {
		t.Fatal("setup page reflects markup")
	}
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"wrong token", `{"token":"setup_wrong","email":"new@example.com","password":"long enough pw"}`, 403},
		{"short password", `{"token":"` + token + `","email":"new@example.com","password":"short"}`, 400},
		{"bad email", `{"token":"` + token + `","email":"not an email","password":"long enough pw"}`, 400},
		{"ok", `{"token":"` + token + `","name":"Nia","email":"new@example.com","password":"` + testPassword + `"}`, 201},
		{"used twice", `{"token":"` + token + `","email":"other@example.com","password":"long enough pw"}`, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := c.do("POST", "/api/v1/setup", tc.body, nil); res.status != tc.status {
				t.Fatalf("status=%d body=%s, want %d", res.status, res.body, tc.status)
			}
		})
	}
	a := e.login("new@example.com")
	var me struct{ Role string }
	a.do("GET", "/api/v1/users/me", nil, nil).decode(t, &me)
	if me.Role != "admin" {
		t.Fatalf("role=%q, want admin", me.Role)
	}
	var inboxes struct{ Results []any }
	a.do("GET", "/conversations/v3/conversations/inboxes", nil, nil).decode(t, &inboxes)
	if len(inboxes.Results) != 1 {
		t.Fatalf("the new admin is a member of %d inboxes, want 1", len(inboxes.Results))
	}
}

// TestSetupLinkRace: many setups racing with one setup link, as an attacker
// who saw the link would send them, create exactly one admin; the others
// get 403 and create nothing.
func TestSetupLinkRace(t *testing.T) {
	// Every racer hashes its password before the link is claimed; on a
	// loaded machine the bounded hashing may keep one waiting for seconds.
	// The wait for a turn is not what this test is about.
	e := newEnv(t, &envOptions{cfg: server.Config{HashWait: 2 * time.Minute}})
	ctx := context.Background()
	token, err := server.NewSetupToken(ctx, e.db)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := e.db.CountUsers(ctx)
	const n = 6
	statuses := make(chan int, n)
	start := make(chan struct{})
	for i := range n {
		go func() {
			body := fmt.Sprintf(`{"token":%q,"email":"racer%d@example.com","password":%q}`, token, i, testPassword)
			req, _ := http.NewRequest("POST", e.base+"/api/v1/setup", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			<-start
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}()
	}
	close(start)
	got := map[int]int{}
	for range n {
		got[<-statuses]++
	}
	if got[201] != 1 || got[403] != n-1 {
		t.Fatalf("statuses %v, want one 201 and %d 403", got, n-1)
	}
	if after, _ := e.db.CountUsers(ctx); after != before+1 {
		t.Fatalf("users %d → %d, want one more", before, after)
	}
}
