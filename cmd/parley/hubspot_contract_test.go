package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// apiUser is a signed-in user of a Parley under test, with its cookie.
type apiUser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

// call sends a JSON request as u and decodes the answer into out (if not
// nil); a status other than want fails the test.
func (u *apiUser) call(method, path string, body any, want int, out any) {
	u.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, u.base+path, bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", u.base)
	res, err := u.hc.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		u.t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			u.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

// token makes an API token of u's and returns it.
func (u *apiUser) token() string {
	u.t.Helper()
	var tok struct{ Token string }
	u.call("POST", "/api/v1/tokens", map[string]string{"name": "HubSpot client"}, 201, &tok)
	return tok.Token
}

func newAPIUser(t *testing.T, base string) *apiUser {
	jar, _ := cookiejar.New(nil)
	return &apiUser{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// moduleRoot is the directory of go.mod above the working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// TestHubSpotClientContract runs testdata/hubspot_contract.js, which drives
// a running Parley with HubSpot's official Node client and checks every
// answer of the conversations API against HubSpot's documented fields:
// threads with each filter, messages, original content, inboxes, channels,
// channel accounts, actors, visitor identification and errors. Node and
// the client (package.json) are required; their absence fails the test.
func TestHubSpotClientContract(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; the HubSpot client contract needs Node 20 and `npm ci`")
	}
	root := moduleRoot(t)
	modules := filepath.Join(root, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, "@hubspot", "api-client", "package.json")); err != nil {
		t.Fatalf("@hubspot/api-client is not installed (run npm ci in %s): %v", root, err)
	}

	p := startProc(t, t.TempDir())
	base := p.base()
	admin := newAPIUser(t, base)
	admin.call("POST", "/api/v1/session", map[string]string{"email": "admin@example.com", "password": "correct horse battery"}, 200, nil)
	adminToken := admin.token()

	// An agent of another inbox only, by invitation.
	var inbox struct{ ID string }
	admin.call("POST", "/api/v1/inboxes", map[string]string{"name": "Elsewhere"}, 201, &inbox)
	var inv struct{ URL string }
	admin.call("POST", "/api/v1/invites", map[string]any{"email": "eve@example.com", "inboxIds": []string{inbox.ID}}, 201, &inv)
	u, err := url.Parse(inv.URL)
	if err != nil {
		t.Fatal(err)
	}
	eve := newAPIUser(t, base)
	eve.call("POST", "/api/v1/invites/accept", map[string]string{"token": u.Query().Get("token"), "name": "Eve", "password": "another horse battery"}, 201, nil)
	eveToken := eve.token()

	// A visitor starts a chat.
	v, _ := dialVisitor(t, base, "")
	v.write(t, map[string]any{"type": "message.send", "clientId": "c1", "text": "Where is my refund?"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	threadID := ""
	for threadID == "" {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatalf("visitor: %v", err)
		}
		for _, ev := range evs {
			if ev["type"] == "message.ack" {
				threadID, _ = ev["message"].(map[string]any)["threadId"].(string)
			}
		}
	}

	cmd := exec.Command(node, filepath.Join("testdata", "hubspot_contract.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "PARLEY_BASE="+base, "PARLEY_TOKEN="+adminToken,
		"PARLEY_OTHER_TOKEN="+eveToken, "PARLEY_THREAD="+threadID)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hubspot_contract.js: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
