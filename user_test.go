package parley_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

func TestParseScopes(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in      []string
		want    string
		wantErr string
	}{
		{"read", []string{"read"}, "[read]", ""},
		{"canonical order, no repeats", []string{"write", "read", "write"}, "[read write]", ""},
		{"admin includes read and write", []string{"admin"}, "[read write admin]", ""},
		{"unknown is named", []string{"read", "root"}, "", `unknown scope "root"`},
		{"case matters", []string{"READ"}, "", `unknown scope "READ"`},
		{"empty", []string{}, "", "at least one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parley.ParseScopes(tt.in)
			if tt.wantErr != "" {
				if parley.ErrorCode(err) != parley.EINVALID || !strings.Contains(parley.ErrorMessage(err), tt.wantErr) {
					t.Errorf("err=%v, want EINVALID with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != tt.want {
				t.Errorf("got %v, %v, want %s", got, err, tt.want)
			}
		})
	}
}

func TestSessionRights(t *testing.T) {
	admin := &parley.User{Role: parley.RoleAdmin}
	agent := &parley.User{Role: parley.RoleAgent}
	all := parley.RoleScopes(parley.RoleAdmin)
	for _, tt := range []struct {
		name string
		s    parley.Session
		u    *parley.User
		want string
	}{
		{"an admin's cookie", parley.Session{Kind: parley.SessionCookie}, admin, "[read write admin]"},
		{"an agent's cookie", parley.Session{Kind: parley.SessionCookie, Scopes: all}, agent, "[read write]"},
		{"a read token", parley.Session{Kind: parley.SessionToken, Scopes: parley.Scopes{parley.ScopeRead}}, admin, "[read]"},
		{"an admin token of a demoted user", parley.Session{Kind: parley.SessionToken, Scopes: all}, agent, "[read write]"},
		{"a token without scopes has the role's", parley.Session{Kind: parley.SessionToken}, admin, "[read write admin]"},
		{"an unknown role has none", parley.Session{Kind: parley.SessionCookie}, &parley.User{Role: "guest"}, "[]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmt.Sprint(tt.s.Rights(tt.u)); got != tt.want {
				t.Errorf("Rights=%s, want %s", got, tt.want)
			}
		})
	}
}
