package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// noPerIPLimits turns the per-address limits off: every test visitor
// comes from 127.0.0.1.
var noPerIPLimits = []string{"PARLEY_VISITOR_CONNS_PER_IP=0", "PARLEY_NEW_VISITORS_PER_IP=0", "PARLEY_NEW_CONVERSATIONS_PER_IP=0"}

// cli runs one of Parley's commands in-process and returns its output.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(string) string { return "" }, &out, &errOut)
	return out.String() + errOut.String(), err
}

// adminToken makes an API token for the admin of base, with every right.
func adminToken(t *testing.T, api *mailAPI) string {
	t.Helper()
	var tok struct{ Token string }
	if st, body := api.do("POST", "/api/v1/tokens", map[string]any{"name": "backups"}, &tok); st != 201 || tok.Token == "" {
		t.Fatalf("token: %d %s", st, body)
	}
	return tok.Token
}

// loadVisitor is one visitor of the sustained load: it keeps a few
// messages in flight and records what was acknowledged, and when.
type loadVisitor struct {
	v     *visitorSession
	token string
	mu    sync.Mutex
	acked map[string]string // clientId → text
	lat   []time.Duration   // send-to-ack latencies
	pad   string            // added to every message's text
}

// ackedNow copies what has been acknowledged so far.
func (l *loadVisitor) ackedNow() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := make(map[string]string, len(l.acked))
	for k, v := range l.acked {
		m[k] = v
	}
	return m
}

// drive sends messages, up to inFlight unacknowledged, until stop is
// closed (or 5000 are sent); it returns the first failure.
func (l *loadVisitor) drive(id int, stop <-chan struct{}) error {
	const inFlight, maxSent = 4, 5000
	sent := map[string]time.Time{}
	n := 0
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	send := func() error {
		n++
		cid := fmt.Sprintf("v%d-m%d", id, n)
		sent[cid] = time.Now()
		b := fmt.Sprintf(`{"type":"message.send","clientId":%q,"text":"visitor %d says %d%s"}`, cid, id, n, l.pad)
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		defer wcancel()
		return l.v.c.Write(wctx, websocket.MessageText, []byte(b))
	}
	for range inFlight {
		if err := send(); err != nil {
			return err
		}
	}
	for len(sent) > 0 {
		evs, err := l.v.read(ctx)
		if err != nil {
			return fmt.Errorf("visitor %d: %w", id, err)
		}
		for _, ev := range evs {
			switch ev["type"] {
			case "identity":
				l.token = ev["visitorToken"].(string)
			case "message.ack":
				cid := ev["clientId"].(string)
				m := ev["message"].(map[string]any)
				l.mu.Lock()
				l.acked[cid] = m["text"].(string)
				l.lat = append(l.lat, time.Since(sent[cid]))
				l.mu.Unlock()
				delete(sent, cid)
				select {
				case <-stop:
					continue
				default:
				}
				if n < maxSent {
					if err := send(); err != nil {
						return err
					}
				}
			case "error":
				return fmt.Errorf("visitor %d: error event %v", id, ev)
			}
		}
	}
	return nil
}

// startLoad connects n visitors that write until the returned stop
// function is called; stop waits for their last acknowledgements.
func startLoad(t testing.TB, base string, n int, pad string) ([]*loadVisitor, func()) {
	t.Helper()
	vs := make([]*loadVisitor, n)
	stop := make(chan struct{})
	errs := make(chan error, n)
	for i := range vs {
		v, _ := dialVisitor(t, base, "")
		vs[i] = &loadVisitor{v: v, acked: map[string]string{}, pad: pad}
		go func() { errs <- vs[i].drive(i, stop) }()
	}
	return vs, func() {
		close(stop)
		for range vs {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
	}
}

func totalAcked(vs []*loadVisitor) int {
	n := 0
	for _, v := range vs {
		v.mu.Lock()
		n += len(v.acked)
		v.mu.Unlock()
	}
	return n
}

// TestBackupUnderLoad: eight visitors write without pause; in their midst
// parley backup streams an archive from the admin API. Restored into a new
// data directory and served, it holds every message acknowledged before
// the backup began, in order, and the file uploaded before it.
func TestBackupUnderLoad(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir, noPerIPLimits...)
	admin := newMailAPI(t, p.base())
	token := adminToken(t, admin)

	vs, stop := startLoad(t, p.base(), 8, "")
	deadline := time.Now().Add(20 * time.Second)
	for totalAcked(vs) < 400 {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("only %d acknowledgements in 20s", totalAcked(vs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A file of the first visitor's thread, uploaded by the admin.
	var threads struct{ Results []struct{ ID string } }
	if st, body := admin.do("GET", "/conversations/v3/conversations/threads?limit=1", nil, &threads); st != 200 || len(threads.Results) == 0 {
		t.Fatalf("threads: %d %s", st, body)
	}
	var up struct{ URL string }
	if st, body := admin.do("POST", "/api/v1/threads/"+threads.Results[0].ID+"/files?name=notes.txt", "kept across the backup", &up); st != 201 {
		t.Fatalf("upload: %d %s", st, body)
	}
	before := make([]map[string]string, len(vs))
	for i, v := range vs {
		before[i] = v.ackedNow()
	}
	file := filepath.Join(t.TempDir(), "parley.tar")
	var out bytes.Buffer
	err := run(context.Background(), []string{"backup", "--url", p.base(), file},
		func(k string) string { return map[string]string{"PARLEY_TOKEN": token}[k] }, &out, io.Discard)
	during := totalAcked(vs)
	stop()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if !strings.Contains(out.String(), "wrote "+file) || !strings.Contains(out.String(), "1 files") {
		t.Errorf("backup said %q, want the file written with its one stored file", out.String())
	}
	t.Logf("%s; %d acknowledgements before the backup, %d when it ended", strings.TrimSpace(out.String()), sumLen(before), during)

	restored := filepath.Join(t.TempDir(), "restored")
	if msg, err := cli(t, "restore", "--data", restored, file); err != nil {
		t.Fatalf("restore: %v: %s", err, msg)
	}
	p2 := startProc(t, restored)
	for i, v := range vs {
		got := replay(t, p2.base(), v.token)
		for cid, text := range before[i] {
			if got[cid] != text {
				t.Fatalf("visitor %d: acknowledged %s=%q is %q after restore", i, cid, text, got[cid])
			}
		}
	}
	api2 := newMailAPI(t, p2.base())
	res, err := api2.hc.Get(p2.base() + up.URL[strings.Index(up.URL, "/files/"):])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != `"kept across the backup"` {
		t.Errorf("the uploaded file after restore: %d %q", res.StatusCode, body)
	}
}

func sumLen(ms []map[string]string) int {
	n := 0
	for _, m := range ms {
		n += len(m)
	}
	return n
}

// replay connects as the visitor with token and returns every message of
// its conversation (clientId → text), checking that the sequence has no
// gap.
func replay(t *testing.T, base, token string) map[string]string {
	t.Helper()
	v, _ := dialVisitor(t, base, token)
	defer v.c.CloseNow()
	got := map[string]string{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var lastSeq float64
	for {
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		evs, err := v.read(rctx)
		rcancel()
		if err != nil {
			if ctx.Err() != nil {
				t.Fatalf("replay: %v", err)
			}
			return got // quiet for a second: the history is all there
		}
		for _, ev := range evs {
			if ev["type"] != "message.created" {
				continue
			}
			m := ev["message"].(map[string]any)
			if m["seq"].(float64) != lastSeq+1 {
				t.Fatalf("replay: seq %v after %v", m["seq"], lastSeq)
			}
			lastSeq = m["seq"].(float64)
			if cid, ok := m["clientId"].(string); ok {
				got[cid] = m["text"].(string)
			}
		}
	}
}

// TestBackupAccess: the backup endpoint streams to an admin's session and
// to an admin's token; a stranger gets 401; an agent (session or token),
// and an admin's token without the admin scope get 403, and none of them a
// byte of the archive; a token in the query is refused.
func TestBackupAccess(t *testing.T) {
	base := startInProcess(t)
	admin := newMailAPI(t, base)
	agent := newAgentAPI(t, admin, base)
	adminTok := adminToken(t, admin)
	agentTok := adminToken(t, agent)
	var readTok struct{ Token string }
	if st, body := admin.do("POST", "/api/v1/tokens", map[string]any{"name": "read", "scopes": []string{"read", "write"}}, &readTok); st != 201 {
		t.Fatalf("token: %d %s", st, body)
	}
	get := func(hc *http.Client, token string, header map[string]string) (int, []byte) {
		req, _ := http.NewRequest("GET", base+"/api/v1/backup", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	for _, c := range []struct {
		name   string
		hc     *http.Client
		token  string
		header map[string]string
		want   int
	}{
		{"stranger", http.DefaultClient, "", nil, 401},
		{"forged token", http.DefaultClient, "pt_forged", nil, 401},
		{"agent session", agent.hc, "", nil, 403},
		{"agent token", http.DefaultClient, agentTok, nil, 403},
		{"admin token without the admin scope", http.DefaultClient, readTok.Token, nil, 403},
		{"admin token", http.DefaultClient, adminTok, nil, 200},
		{"admin session", admin.hc, "", nil, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, body := get(c.hc, c.token, c.header)
			if st != c.want {
				t.Fatalf("status=%d, want %d: %.200s", st, c.want, body)
			}
			if st != 200 {
				if bytes.Contains(body, []byte(archiveDB)) {
					t.Fatalf("a refusal holds archive bytes")
				}
				return
			}
			m, err := readArchive(bytes.NewReader(body), "")
			if err != nil {
				t.Fatalf("the archive: %v", err)
			}
			if m.SchemaVersion < 1 || m.Database.Size == 0 {
				t.Fatalf("manifest %+v", m)
			}
		})
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/backup?hapikey="+adminTok, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("a token in the query: status=%d, want 400 (no parameter is read)", res.StatusCode)
	}
}

// makeBackup writes a backup of a stopped data directory with a little
// data in it and returns the archive's bytes.
func makeBackup(t *testing.T) []byte {
	t.Helper()
	dir := t.TempDir()
	p := startProc(t, dir)
	v, _ := dialVisitor(t, p.base(), "")
	v.write(t, map[string]any{"type": "message.send", "clientId": "c1", "text": "hello before the backup"})
	waitAck(t, v)
	admin := newMailAPI(t, p.base())
	if st, body := admin.do("POST", "/api/v1/threads/1/files?name=a.txt", "file bytes", nil); st != 201 {
		t.Fatalf("upload: %d %s", st, body)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	file := filepath.Join(t.TempDir(), "b.tar")
	if msg, err := cli(t, "backup", "--data", dir, file); err != nil {
		t.Fatalf("backup --data: %v: %s", err, msg)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func waitAck(t *testing.T, v *visitorSession) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev["type"] == "message.ack" {
				return
			}
		}
	}
}

// tarEntries splits an archive into its entries, in order.
func tarEntries(t *testing.T, b []byte) (names []string, bodies [][]byte) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		names, bodies = append(names, hd.Name), append(bodies, body)
	}
}

// buildTar makes an archive of the given entries (name, body), with a
// symbolic link where the body is nil.
func buildTar(names []string, bodies [][]byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, name := range names {
		if bodies[i] == nil {
			_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: "/etc/passwd"})
			continue
		}
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(bodies[i])), Mode: 0o600})
		_, _ = tw.Write(bodies[i])
	}
	_ = tw.Close()
	return buf.Bytes()
}

// TestRestoreRefusesBadArchives: every way an archive can be damaged or
// forged is refused by restore (and by backup's check of what it wrote),
// naming the problem, and leaves the target directory as it was: cut off
// in any entry or between two, a stored file's bytes changed, the database changed, an
// entry outside the data directory or a link, an entry after the manifest,
// a manifest that miscounts.
func TestRestoreRefusesBadArchives(t *testing.T) {
	good := makeBackup(t)
	names, bodies := tarEntries(t, good)
	if len(names) != 3 || names[0] != archiveDB || !strings.HasPrefix(names[1], archiveFiles) || names[2] != archiveEnd {
		t.Fatalf("entries %v, want the database, one file, the manifest", names)
	}
	with := func(edit func(n []string, b [][]byte) ([]string, [][]byte)) []byte {
		n, b := slices.Clone(names), slices.Clone(bodies)
		for i := range b {
			b[i] = slices.Clone(b[i])
		}
		return buildTar(edit(n, b))
	}
	cases := map[string]struct {
		archive []byte
		want    string
	}{
		"empty":               {nil, "manifest that ends it is missing"},
		"cut in the database": {good[:2048], "database"},
		"cut before a file":   {buildTar(names[:1], bodies[:1]), "manifest that ends it is missing"},
		"cut before the end":  {buildTar(names[:2], bodies[:2]), "manifest that ends it is missing"},
		"cut in the manifest": {good[:len(good)-1024-(len(bodies[2])+511)/512*512+len(bodies[2])/2], "manifest"},
		"file bytes changed": {with(func(n []string, b [][]byte) ([]string, [][]byte) {
			b[1][0] ^= 1
			return n, b
		}), "SHA-256"},
		"database changed": {with(func(n []string, b [][]byte) ([]string, [][]byte) {
			b[0][5000] ^= 1
			return n, b
		}), "the manifest says"},
		"entry outside": {with(func(n []string, b [][]byte) ([]string, [][]byte) {
			return append([]string{n[0], "files/../../escaped"}, n[1:]...), append([][]byte{b[0], []byte("x")}, b[1:]...)
		}), "no stored file's name"},
		"symbolic link": {with(func(n []string, b [][]byte) ([]string, [][]byte) {
			return append([]string{n[0], "files/ab/link"}, n[1:]...), append([][]byte{b[0], nil}, b[1:]...)
		}), "not a regular file"},
		"unknown entry": {with(func(n []string, b [][]byte) ([]string, [][]byte) {
			return append([]string{n[0], "notes.txt"}, n[1:]...), append([][]byte{b[0], []byte("x")}, b[1:]...)
		}), "unexpected entry"},
		"entry after the manifest": {with(func(n []string, b [][]byte) ([]string, [][]byte) {
			return append(n, n[1]), append(b, b[1])
		}), "after the manifest"},
		"file missing": {with(func(n []string, b [][]byte) ([]string, [][]byte) {
			return []string{n[0], n[2]}, [][]byte{b[0], b[2]}
		}), "the manifest says"},
		"manifest of another format": {with(func(n []string, b [][]byte) ([]string, [][]byte) {
			b[2] = bytes.Replace(b[2], []byte(`"format": 1`), []byte(`"format": 2`), 1)
			return n, b
		}), "format 2"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			archive := filepath.Join(t.TempDir(), "a.tar")
			if err := os.WriteFile(archive, c.archive, 0o600); err != nil {
				t.Fatal(err)
			}
			target := t.TempDir()
			msg, err := cli(t, "restore", "--data", target, archive)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "nothing changed") {
				t.Fatalf("restore: %v %s; want an error saying %q and nothing changed", err, msg, c.want)
			}
			if left, _ := os.ReadDir(target); len(left) != 0 {
				t.Fatalf("the target holds %d entries after a refused restore", len(left))
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(target), "escaped")); err == nil {
				t.Fatal("an entry escaped the data directory")
			}
		})
	}
}

// TestRestoreRefusals: restore will not touch a data directory that has
// data unless --force, nor one a Parley runs on even with --force; backup
// --data refuses a directory a Parley runs on; with --force a stopped
// directory's data is replaced, and what else it holds stays.
func TestRestoreRefusals(t *testing.T) {
	good := makeBackup(t)
	archive := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(archive, good, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := startProc(t, dir)
	if msg, err := cli(t, "restore", "--data", dir, archive); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a used directory: %v %s", err, msg)
	}
	if msg, err := cli(t, "restore", "--force", "--data", dir, archive); err == nil || !strings.Contains(err.Error(), "in use by a running Parley") {
		t.Fatalf("restore --force under a running Parley: %v %s", err, msg)
	}
	if msg, err := cli(t, "backup", "--data", dir, filepath.Join(t.TempDir(), "x.tar")); err == nil || !strings.Contains(err.Error(), "in use by a running Parley") {
		t.Fatalf("backup --data under a running Parley: %v %s", err, msg)
	}
	if msg, err := cli(t, "compact", "--data", dir); err == nil || !strings.Contains(err.Error(), "in use by a running Parley") {
		t.Fatalf("compact under a running Parley: %v %s", err, msg)
	}
	if msg, err := cli(t, "backup", "--url", p.base(), filepath.Join(t.TempDir(), "x.tar")); err == nil || !strings.Contains(err.Error(), "--token") {
		t.Fatalf("backup without a token: %v %s", err, msg)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg, err := cli(t, "restore", "--force", "--data", dir, archive); err != nil {
		t.Fatalf("restore --force: %v %s", err, msg)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "keep.txt")); err != nil || string(b) != "mine" {
		t.Errorf("keep.txt after restore: %q, %v", b, err)
	}
	p2 := startProc(t, dir)
	if got := apiGet(t, p2.base(), "/conversations/v3/conversations/threads/1/messages"); !bytes.Contains(got, []byte("hello before the backup")) {
		t.Errorf("the restored thread: %s", got)
	}
}

// TestScheduledBackups: with --backup-every and --backup-keep, Parley
// writes checked archives on its own and keeps only the newest, never
// touching other files in the directory.
func TestScheduledBackups(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "parley-mine.tar")
	if err := os.WriteFile(other, []byte("not a backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, t.TempDir(), "PARLEY_BACKUP_DIR="+dir, "PARLEY_BACKUP_EVERY=1s", "PARLEY_BACKUP_KEEP=2")
	written := 0
	deadline := time.After(30 * time.Second)
	for written < 4 {
		select {
		case line := <-p.logs:
			if line["message"] == "scheduled backup written" {
				written++
			}
			if line["message"] == "scheduled backup failed" {
				t.Fatalf("%v", line)
			}
		case <-deadline:
			t.Fatalf("%d scheduled backups in 30s, want 4", written)
		}
	}
	// Stopped first: the next tick's backup may be between its rename
	// and its pruning.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	entries, _ := os.ReadDir(dir)
	var tars []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tar") && e.Name() != "parley-mine.tar" {
			tars = append(tars, e.Name())
		}
	}
	if len(tars) != 2 {
		t.Fatalf("backups kept: %v, want 2", tars)
	}
	for _, name := range tars {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = readArchive(f, "")
		f.Close()
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("pruning removed another file: %v", err)
	}
}

// TestBackupFlags: the schedule's flags and their environment twins are
// checked.
func TestBackupFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--backup-every", "0s"}, nil, "--backup-every"},
		{[]string{"--backup-keep", "0"}, nil, "--backup-keep"},
		{nil, map[string]string{"PARLEY_BACKUP_EVERY": "often"}, "PARLEY_BACKUP_EVERY"},
		{nil, map[string]string{"PARLEY_BACKUP_KEEP": "-1"}, "PARLEY_BACKUP_KEEP"},
	} {
		_, err := parseConfig(c.args, func(k string) string { return c.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: %v, want an error naming %s", c.args, c.env, err, c.want)
		}
	}
	c, err := parseConfig(nil, func(k string) string {
		return map[string]string{"PARLEY_BACKUP_DIR": "/b", "PARLEY_BACKUP_EVERY": "6h", "PARLEY_BACKUP_KEEP": "3"}[k]
	}, io.Discard)
	if err != nil || c.BackupDir != "/b" || c.BackupEvery != 6*time.Hour || c.BackupKeep != 3 {
		t.Errorf("env twins: %+v, %v", c, err)
	}
	if msg, err := cli(t, "restore", "x.tar"); err == nil || !strings.Contains(err.Error(), "--data") {
		t.Errorf("restore without --data: %v %s", err, msg)
	}
	if msg, err := cli(t, "backup", "a.tar", "b.tar"); err == nil || !strings.Contains(err.Error(), "one file") {
		t.Errorf("backup of two files: %v %s", err, msg)
	}
}
