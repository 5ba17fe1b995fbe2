package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestParseConfigContract: the bare command and `parley serve` are the
// same; defaults are 127.0.0.1:8080 and ./parley-data; every flag has its
// environment twin, and a flag wins over it.
func TestParseConfigContract(t *testing.T) {
	tests := []struct {
		name             string
		args             []string
		env              map[string]string
		addr, data, base string
		wantErr          string
	}{
		{"bare command", nil, nil, "127.0.0.1:8080", "parley-data", "", ""},
		{"serve", []string{"serve"}, nil, "127.0.0.1:8080", "parley-data", "", ""},
		{"serve with flags", []string{"serve", "--addr", "127.0.0.1:9000", "--data", "/tmp/p", "--base-url", "https://chat.example/"},
			nil, "127.0.0.1:9000", "/tmp/p", "https://chat.example", ""},
		{"flags without serve", []string{"--addr", "127.0.0.1:9000"}, nil, "127.0.0.1:9000", "parley-data", "", ""},
		{"environment twins", []string{"serve"}, map[string]string{"PARLEY_ADDR": "127.0.0.1:7000", "PARLEY_DATA": "/var/lib/parley", "PARLEY_BASE_URL": "https://help.example"},
			"127.0.0.1:7000", "/var/lib/parley", "https://help.example", ""},
		{"a flag wins over its twin", []string{"--addr", "127.0.0.1:9000"}, map[string]string{"PARLEY_ADDR": "127.0.0.1:7000"}, "127.0.0.1:9000", "parley-data", "", ""},
		{"unknown command", []string{"start"}, nil, "", "", "", `unknown command "start"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err=%v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Addr != tt.addr || c.Data != tt.data || c.BaseURL != tt.base {
				t.Errorf("addr=%q data=%q base=%q, want %q %q %q", c.Addr, c.Data, c.BaseURL, tt.addr, tt.data, tt.base)
			}
		})
	}
}

// TestServeFirstStart: `parley serve` on a fresh data directory answers
// /healthz, takes the admin from the environment, uses http:// + addr as the
// base URL, and creates the default inbox (the admin a member with a
// routing seat) and the default widget (enabled, all pages, availability by
// team status with the launcher shown while away, routing to the inbox).
// serveLogs runs `parley serve` in-process with env on a free port until
// the test ends and returns its log lines as they come.
func serveLogs(t testing.TB, env map[string]string) <-chan map[string]any {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, func(k string) string { return env[k] }, io.Discard, pw)
		pw.Close()
	}()
	lines := make(chan map[string]any, 100)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil {
				select {
				case lines <- line:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return lines
}

// waitLog returns the first log line with this message.
func waitLog(t testing.TB, lines <-chan map[string]any, message string) map[string]any {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case line := <-lines:
			if line["message"] == message {
				return line
			}
		case <-deadline:
			t.Fatalf("no log line %q within 15s", message)
		}
	}
}

func TestServeFirstStart(t *testing.T) {
	lines := serveLogs(t, map[string]string{
		"PARLEY_DATA":           t.TempDir(),
		"PARLEY_ADMIN_EMAIL":    "admin@example.com",
		"PARLEY_ADMIN_PASSWORD": "correct horse battery",
	})
	line := waitLog(t, lines, "listening")
	base := "http://" + line["addr"].(string)
	if line["baseURL"] != base {
		t.Errorf("base URL %v, want %s", line["baseURL"], base)
	}

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	call := func(method, path, body string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Origin", base)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if v != nil {
			if err := json.NewDecoder(res.Body).Decode(v); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return res.StatusCode
	}
	if st := call("GET", "/healthz", "", nil); st != 200 {
		t.Fatalf("healthz: %d", st)
	}
	if st := call("POST", "/api/v1/session", `{"email":"admin@example.com","password":"correct horse battery"}`, nil); st != 200 {
		t.Fatalf("sign in: %d", st)
	}
	var me struct {
		ID          string
		RoutingSeat bool
	}
	call("GET", "/api/v1/users/me", "", &me)
	var inboxes struct {
		Results []struct {
			ID        string
			MemberIDs []json.Number
		}
	}
	call("GET", "/api/v1/inboxes", "", &inboxes)
	if len(inboxes.Results) != 1 || len(inboxes.Results[0].MemberIDs) != 1 || inboxes.Results[0].MemberIDs[0].String() != me.ID || !me.RoutingSeat {
		t.Fatalf("inboxes=%+v me=%+v: want one inbox with the admin, who holds a routing seat", inboxes, me)
	}
	var widgets struct {
		Results []struct {
			InboxID      string
			Enabled      bool
			Targeting    struct{ Rules []any }
			Availability struct {
				Mode                 string
				HideLauncherWhenAway bool
			}
			Routing struct{ Mode string }
			Options struct{ Transcripts bool }
		}
	}
	call("GET", "/api/v1/widgets", "", &widgets)
	if len(widgets.Results) != 1 {
		t.Fatalf("widgets=%+v", widgets)
	}
	w := widgets.Results[0]
	if w.InboxID != inboxes.Results[0].ID || !w.Enabled || len(w.Targeting.Rules) != 0 || w.Availability.Mode != "team" ||
		w.Availability.HideLauncherWhenAway || w.Routing.Mode != "inbox" || !w.Options.Transcripts {
		t.Errorf("default widget=%+v", w)
	}
}

// TestServeSetupLink: a first start without PARLEY_ADMIN_EMAIL and
// PARLEY_ADMIN_PASSWORD ends its start with a banner at info, once it
// listens: the URL to open and the one-time setup link under the base URL.
// Nothing before it is a warning but the one line that says Dart Sass is
// missing, which carries only the first line of what a wrong "sass" (here
// one that explains itself over forty lines) wrote: its chatter stays out
// of the log.
func TestServeSetupLink(t *testing.T) {
	fake := t.TempDir()
	script := "#!/bin/sh\ni=1\nwhile [ $i -le 40 ]; do echo \"DEPRECATION WARNING: this is not the embedded Dart Sass, line $i of a long explanation\" >&2; i=$((i+1)); done\nexit 64\n"
	if err := os.WriteFile(filepath.Join(fake, "sass"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", fake)
	// What Parley's process writes to its standard error outside the log.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, stray := os.Stderr, make(chan string, 1)
	os.Stderr = w
	go func() {
		b, _ := io.ReadAll(r)
		stray <- string(b)
	}()
	var out string
	restore := func() string {
		if os.Stderr == w {
			os.Stderr = stderr
			w.Close()
			out = <-stray
		}
		return out
	}
	t.Cleanup(func() { restore() })
	lines := serveLogs(t, map[string]string{"PARLEY_DATA": t.TempDir(), "PARLEY_BASE_URL": "https://chat.example"})
	var before []map[string]any
	deadline := time.After(15 * time.Second)
	var banner map[string]any
	for banner == nil {
		select {
		case line := <-lines:
			if line["message"] == firstRunSetupMessage {
				banner = line
			} else {
				before = append(before, line)
			}
		case <-deadline:
			t.Fatalf("no banner within 15s; the log: %v", before)
		}
	}
	if banner["level"] != "info" || banner["url"] != "https://chat.example/" {
		t.Errorf("banner %v: want level info and url https://chat.example/", banner)
	}
	if u, _ := banner["setupLink"].(string); !strings.HasPrefix(u, "https://chat.example/setup?token=") || len(u) <= len("https://chat.example/setup?token=") {
		t.Errorf("setup link %q", u)
	}
	if len(before) == 0 || before[len(before)-1]["message"] != "listening" {
		t.Errorf("the banner does not follow the listening line: %v", before)
	}
	sassWarned := false
	for _, line := range before {
		if line["level"] == "info" || line["level"] == "debug" {
			continue
		}
		msg, _ := line["message"].(string)
		errText, _ := line["error"].(string)
		if !strings.HasPrefix(msg, "Dart Sass is missing") {
			t.Errorf("a %v line before the banner: %v", line["level"], line)
			continue
		}
		sassWarned = true
		if strings.Contains(errText, "line 2 of") || len(errText) > 1000 {
			t.Errorf("the Sass warning carries %d bytes of the wrong sass's output: %q", len(errText), errText)
		}
	}
	if !sassWarned {
		t.Errorf("no line says that Dart Sass is missing: %v", before)
	}
	if out := restore(); strings.Contains(out, "long explanation") {
		t.Errorf("the wrong sass's output went to the standard error, beside the log:\n%.300s", out)
	}
}

// TestPerIPLimitFlags: the per-address abuse limits (CONTRACT §1) default
// to 100 connections, 60 new visitors and 30 new conversations; each flag
// has its environment twin and wins over it; 0 turns a limit off (negative
// in server.Config, whose 0 is the default); anything but a whole number
// from 0 up is refused with a message naming the flag or variable.
func TestPerIPLimitFlags(t *testing.T) {
	tests := []struct {
		name                 string
		args                 []string
		env                  map[string]string
		conns, visitors, new int
		wantErr              string
	}{
		{"defaults", nil, nil, 100, 60, 30, ""},
		{"flags", []string{"--visitor-conns-per-ip", "5", "--new-visitors-per-ip", "6", "--new-conversations-per-ip", "7"}, nil, 5, 6, 7, ""},
		{"environment twins", nil, map[string]string{"PARLEY_VISITOR_CONNS_PER_IP": "8", "PARLEY_NEW_VISITORS_PER_IP": "9", "PARLEY_NEW_CONVERSATIONS_PER_IP": "10"}, 8, 9, 10, ""},
		{"a flag wins over its twin", []string{"--new-conversations-per-ip", "3"}, map[string]string{"PARLEY_NEW_CONVERSATIONS_PER_IP": "10"}, 100, 60, 3, ""},
		{"0 turns them off", []string{"--visitor-conns-per-ip=0", "--new-visitors-per-ip=0"}, map[string]string{"PARLEY_NEW_CONVERSATIONS_PER_IP": "0"}, 0, 0, 0, ""},
		{"negative flag", []string{"--visitor-conns-per-ip", "-1"}, nil, 0, 0, 0, "--visitor-conns-per-ip must be a whole number, 0 for no limit"},
		{"not a number", []string{"--new-conversations-per-ip", "many"}, nil, 0, 0, 0, `invalid value "many" for flag -new-conversations-per-ip`},
		{"fraction", []string{"--new-visitors-per-ip", "1.5"}, nil, 0, 0, 0, `invalid value "1.5" for flag -new-visitors-per-ip`},
		{"bad twin", nil, map[string]string{"PARLEY_VISITOR_CONNS_PER_IP": "lots"}, 0, 0, 0, "PARLEY_VISITOR_CONNS_PER_IP must be a whole number, 0 for no limit"},
		{"negative twin", nil, map[string]string{"PARLEY_NEW_CONVERSATIONS_PER_IP": "-5"}, 0, 0, 0, "PARLEY_NEW_CONVERSATIONS_PER_IP must be a whole number, 0 for no limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err=%v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.VisitorConnsPerIP != tt.conns || c.NewVisitorsPerIP != tt.visitors || c.NewConversationsPerIP != tt.new {
				t.Errorf("limits=%d %d %d, want %d %d %d", c.VisitorConnsPerIP, c.NewVisitorsPerIP, c.NewConversationsPerIP, tt.conns, tt.visitors, tt.new)
			}
		})
	}
	for in, want := range map[int]int{0: -1, 1: 1, 100: 100} {
		if got := perIPLimit(in); got != want {
			t.Errorf("perIPLimit(%d)=%d, want %d", in, got, want)
		}
	}
}

// TestPerIPLimitsServe: the limits reach the running server. With
// PARLEY_VISITOR_CONNS_PER_IP=2 a third visitor socket from the same
// address is closed with 4429; with every limit 0, 120 sockets and 40 new
// conversations from one address are all served.
func TestPerIPLimitsServe(t *testing.T) {
	t.Run("two connections", func(t *testing.T) {
		p := startProc(t, t.TempDir(), "PARLEY_VISITOR_CONNS_PER_IP=2")
		for i := range 3 {
			v, _ := dialVisitor(t, p.base(), "")
			defer v.c.CloseNow()
			ev := firstEvent(t, v)
			if i < 2 && ev["type"] != "ready" {
				t.Fatalf("socket %d: %v, want ready", i, ev)
			}
			if i == 2 && ev["close"] != float64(4429) {
				t.Fatalf("third socket: %v, want close 4429", ev)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		p := startProc(t, t.TempDir(), "PARLEY_VISITOR_CONNS_PER_IP=0", "PARLEY_NEW_VISITORS_PER_IP=0", "PARLEY_NEW_CONVERSATIONS_PER_IP=0")
		for i := range 120 {
			v, _ := dialVisitor(t, p.base(), "")
			defer v.c.CloseNow()
			if ev := firstEvent(t, v); ev["type"] != "ready" {
				t.Fatalf("socket %d: %v, want ready", i, ev)
			}
			if i >= 40 {
				continue
			}
			v.write(t, map[string]any{"type": "message.send", "clientId": "m1", "text": "hi"})
		wait:
			for {
				for _, ev := range nextEvents(t, v) {
					if ev["type"] == "message.ack" {
						break wait
					}
					if ev["type"] == "error" || ev["close"] != nil {
						t.Fatalf("conversation %d: %v", i, ev)
					}
				}
			}
		}
	})
}

// nextEvents returns the events of the visitor's next frame, or
// [{"close": code}] when the server closed the socket.
func nextEvents(t *testing.T, v *visitorSession) []map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, err := v.read(ctx)
	if err != nil {
		if code := websocket.CloseStatus(err); code != -1 {
			return []map[string]any{{"close": float64(code)}}
		}
		t.Fatal(err)
	}
	return evs
}

// firstEvent returns the first event of the visitor's next frame (the
// answer to hello is a frame of its own).
func firstEvent(t *testing.T, v *visitorSession) map[string]any {
	t.Helper()
	return nextEvents(t, v)[0]
}
