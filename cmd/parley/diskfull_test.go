package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store"
)

// diskFullNS is set in the environment of this test binary when it runs
// itself again inside a user and mount namespace of its own, where it may
// mount a tmpfs without being root.
const diskFullNS = "PARLEY_TEST_DISKFULL_NS"

// ranInNamespace runs test t again, when this process is not root, in a
// user and mount namespace of its own (unshare), where it may mount a
// tmpfs, and reports true: the caller returns. Without unshare, or where
// user namespaces are off, t fails saying what it needs.
func ranInNamespace(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() == 0 || os.Getenv(diskFullNS) != "" {
		return false
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Fatalf("%s mounts a small tmpfs: it needs root, or unshare (util-linux) and user namespaces: %v", t.Name(), err)
	}
	cmd := exec.Command(unshare, "--user", "--map-root-user", "--mount", os.Args[0], "-test.run", "^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), diskFullNS+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("in a user and mount namespace of its own:\n%s", out)
	if err != nil {
		t.Fatalf("%s in a namespace of its own (unshare --user --map-root-user --mount): %v; it needs root, or user namespaces", t.Name(), err)
	}
	return true
}

// smallDisk returns a directory on a tmpfs of the given size (mount's
// size= syntax), unmounted at cleanup. It needs root, or this test running
// inside a namespace of its own (see TestDiskFull).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("mount a %s tmpfs on %s: %v: %s (the test needs root, or unshare and user namespaces)", size, dir, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "--lazy", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes zeros to path until the file system has no room left
// (ENOSPC), first in large pieces, then page by page, and returns how many
// bytes it wrote.
func fillDisk(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	for _, piece := range []int{1 << 20, 4 << 10, 512} {
		buf := make([]byte, piece)
		for {
			n, err := f.Write(buf)
			total += int64(n)
			if errors.Is(err, syscall.ENOSPC) {
				break
			} else if err != nil {
				t.Fatalf("fill: %v", err)
			}
		}
	}
	return total
}

// sendAnswer is what Parley answered one message.send: its ack's message,
// or its error event; and the visitor's token, if the answer came with it.
type sendAnswer struct {
	msg   map[string]any
	err   map[string]any
	token string
}

// send sends one message and waits for its answer, passing over the other
// events of the socket.
func (v *visitorSession) send(t *testing.T, cid, text string) sendAnswer {
	t.Helper()
	v.write(t, map[string]any{"type": "message.send", "clientId": cid, "text": text})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var a sendAnswer
	for {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatalf("send %s: %v", cid, err)
		}
		for _, ev := range evs {
			if ev["type"] == "identity" {
				a.token = ev["visitorToken"].(string)
			}
			if ev["clientId"] != cid {
				continue
			}
			switch ev["type"] {
			case "message.ack":
				a.msg = ev["message"].(map[string]any)
				return a
			case "error":
				a.err = ev
				return a
			}
		}
	}
}

// watch reads a socket's events until it closes and returns the texts of
// the messages published to it, in order.
func (v *visitorSession) watch() <-chan []string {
	out := make(chan []string, 1)
	go func() {
		var texts []string
		defer func() { out <- texts }()
		for {
			evs, err := v.read(context.Background())
			if err != nil {
				return
			}
			for _, ev := range evs {
				if ev["type"] == "message.created" {
					if m, ok := ev["message"].(map[string]any); ok && m["type"] == "MESSAGE" {
						texts = append(texts, m["text"].(string))
					}
				}
			}
		}
	}()
	return out
}

// grantUpload asks for an upload grant on the visitor's socket.
func (v *visitorSession) grantUpload(t *testing.T) string {
	t.Helper()
	v.write(t, map[string]any{"type": "upload.grant"})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatalf("upload.grant: %v", err)
		}
		for _, ev := range evs {
			switch ev["type"] {
			case "upload.granted":
				return ev["url"].(string)
			case "error":
				t.Fatalf("upload.grant: %v", ev)
			}
		}
	}
}

// health asks GET /healthz.
func health(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("healthz: status %d: %v", res.StatusCode, err)
	}
	return res.StatusCode, body
}

// blobFiles counts the stored blobs and the unfinished writes under a
// data directory's files.
func blobFiles(t *testing.T, dataDir string) (blobs, tmp int) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(dataDir, filesDir), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if filepath.Base(filepath.Dir(path)) == ".tmp" {
			tmp++
		} else if parley.IsBlobKey(d.Name()) {
			blobs++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return blobs, tmp
}

// threadMessages reads a thread's messages through the API, oldest first.
func threadMessages(t *testing.T, api *mailAPI, threadID string) []map[string]any {
	t.Helper()
	var all []map[string]any
	after := ""
	for {
		var page struct {
			Results []map[string]any
			Paging  struct{ Next struct{ After string } }
		}
		path := "/conversations/v3/conversations/threads/" + threadID + "/messages?limit=500"
		if after != "" {
			path += "&after=" + after
		}
		if st, body := api.do("GET", path, nil, &page); st != 200 {
			t.Fatalf("messages: %d %s", st, body)
		}
		all = append(all, page.Results...)
		if page.Paging.Next.After == "" {
			return all
		}
		after = page.Paging.Next.After
	}
}

// TestDiskFull runs Parley on a 64 MiB tmpfs and fills it while a visitor
// chats and an agent replies. Every write that finds no room is refused
// with the storage error (an error frame with code storage_error on the
// WebSocket, 507 from the API), not acknowledged and not published (the
// visitor's second tab sees each acknowledged message once, in order, and
// nothing else); an upload leaves no partial file. Parley logs the failure
// once at ERROR, stays up, and says so on /healthz (507, as the writes)
// and in parley healthcheck. Once the filler is deleted, writes succeed
// again without a restart. Every acknowledged message is there exactly
// once and in order, and after a stop the file passes bbolt's consistency
// check and opens again.
//
// Not root, the test runs itself again inside a user and mount namespace
// of its own (unshare), where it may mount the tmpfs.
func TestDiskFull(t *testing.T) {
	if ranInNamespace(t) {
		return
	}

	disk := smallDisk(t, "64m")
	data := filepath.Join(disk, "data")
	p := startProc(t, data)
	api := newMailAPI(t, p.base())
	v, _ := dialVisitor(t, p.base(), "")
	defer v.c.CloseNow()

	// Messages large enough that each takes pages of its own: once the
	// disk is full, a commit of one must grow the file.
	text := func(who string, n int) string {
		return fmt.Sprintf("%s %d %s", who, n, strings.Repeat("x", 8<<10))
	}
	var acked []string // texts, in the order they were acknowledged
	refused := map[string]string{}
	threadID, token := "", ""
	visitorSays := func(cid string) sendAnswer {
		a := v.send(t, cid, text("visitor "+cid, 0))
		if a.token != "" {
			token = a.token
		}
		if a.msg != nil {
			acked = append(acked, a.msg["text"].(string))
			threadID = a.msg["threadId"].(string)
		} else {
			refused[cid] = text("visitor "+cid, 0)
		}
		return a
	}
	agentSays := func(n int) (int, map[string]any) {
		var body map[string]any
		st, raw := api.do("POST", "/conversations/v3/conversations/threads/"+threadID+"/messages",
			map[string]any{"type": "MESSAGE", "text": text("agent", n)}, &body)
		if st == http.StatusCreated {
			acked = append(acked, body["text"].(string))
		} else if st != http.StatusInsufficientStorage {
			t.Fatalf("agent reply %d: %d %s", n, st, raw)
		}
		return st, body
	}

	// Before: the disk has room.
	for i := range 20 {
		if a := visitorSays(fmt.Sprintf("before-%d", i)); a.err != nil {
			t.Fatalf("before the disk filled: %v", a.err)
		}
		if i%4 == 3 {
			if st, body := agentSays(i); st != http.StatusCreated {
				t.Fatalf("agent reply before the disk filled: %d %v", st, body)
			}
		}
	}
	tab, _ := dialVisitor(t, p.base(), token)
	published := tab.watch()
	// The second tab replays what is stored: the messages so far.
	grant := v.grantUpload(t)
	if _, err := uploadTo(grant, "before.txt", "kept"); err != nil {
		t.Fatalf("upload before the disk filled: %v", err)
	}
	blobsBefore, _ := blobFiles(t, data)
	// Drop the log lines so far: what follows is about the full disk.
	for len(p.logs) > 0 {
		<-p.logs
	}

	// Full: a filler takes every byte left.
	filler := filepath.Join(disk, "filler")
	filled := fillDisk(t, filler)
	t.Logf("the filler took %d MiB", filled>>20)

	// Sends go on: each is acknowledged (bbolt reuses the pages it has
	// freed) or refused, and once its free pages are used up every one is
	// refused.
	firstRefused := -1
	for i := 0; i < 200 && firstRefused < 0; i++ {
		if a := visitorSays(fmt.Sprintf("full-%d", i)); a.err != nil {
			firstRefused = i
		}
	}
	if firstRefused < 0 {
		t.Fatalf("200 sends on a full disk, none refused")
	}
	// From then on each send is refused, or stored where a page that
	// another write freed (the search index's, a rolled-back batch's)
	// still has room; never lost. Most are refused.
	const streak = 30
	var refusedSends []string
	for i := range streak {
		cid := fmt.Sprintf("refused-%d", i)
		a := visitorSays(cid)
		if a.err == nil {
			continue // acknowledged: it is read back below with the rest
		}
		if a.err["code"] != "storage_error" || !strings.Contains(a.err["message"].(string), "disk full") {
			t.Fatalf("send %s on a full disk: %v, want code storage_error and a message naming the full disk", cid, a.err)
		}
		refusedSends = append(refusedSends, cid)
	}
	if len(refusedSends) < streak/2 {
		t.Fatalf("%d of %d sends on a full disk refused, want most", len(refusedSends), streak)
	}
	for i := range 3 {
		st, body := agentSays(100 + i)
		if st != http.StatusInsufficientStorage || body["code"] != "storage_error" || !strings.Contains(fmt.Sprint(body["message"]), "disk full") {
			t.Fatalf("agent reply on a full disk: %d %v, want 507 storage_error naming the full disk", st, body)
		}
	}
	if _, err := uploadTo(grant, "full.txt", strings.Repeat("y", 256<<10)); err == nil || !strings.Contains(err.Error(), "507") ||
		!strings.Contains(err.Error(), `"code":"storage_error"`) {
		t.Fatalf("upload on a full disk: %v, want 507 storage_error", err)
	}
	if blobs, tmp := blobFiles(t, data); blobs != blobsBefore || tmp != 0 {
		t.Errorf("after a refused upload: %d blobs and %d unfinished writes, want %d and 0", blobs, tmp, blobsBefore)
	}
	if st, h := health(t, p.base()); st != http.StatusInsufficientStorage || h["code"] != "storage_error" || !strings.Contains(fmt.Sprint(h["message"]), "disk full") {
		t.Errorf("healthz on a full disk: %d %v, want 507 storage_error naming the full disk", st, h)
	}
	if out, err := cli(t, "healthcheck", "--url", p.base()+"/healthz"); err == nil || !strings.Contains(err.Error(), "507 Insufficient Storage: disk full") {
		t.Errorf("parley healthcheck on a full disk: %v: %s, want it to fail naming the full disk", err, out)
	}
	// One line at ERROR for the whole burst, not one per refused write,
	// and nothing else above INFO.
	var loud []map[string]any
	for len(p.logs) > 0 {
		if line := <-p.logs; line["level"] == "error" || line["level"] == "warn" {
			loud = append(loud, line)
		}
	}
	if len(loud) != 1 || loud[0]["level"] != "error" || !strings.Contains(fmt.Sprint(loud[0]["error"]), "no space left on device") {
		t.Errorf("log lines at WARN and ERROR while the disk was full: %v, want one at ERROR naming ENOSPC", loud)
	}
	select {
	case <-p.done:
		t.Fatal("parley exited on a full disk")
	default:
	}

	// Room again: Parley takes writes without a restart.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, h := health(t, p.base())
		if st == http.StatusOK && h["status"] == "ok" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz 20s after the disk had room again: %d %v", st, h)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if line := waitLog(t, p.logs, "storage works again"); line["refused"].(float64) < float64(len(refusedSends)+3) {
		t.Errorf("the recovery's log line: %v, want it to count at least the %d refused sends", line, len(refusedSends)+3)
	}
	// A refused message sent again is stored once, like any retry.
	retried := refusedSends[0]
	for i := range 20 {
		cid := fmt.Sprintf("after-%d", i)
		if i == 0 {
			cid = retried
		}
		if a := visitorSays(cid); a.err != nil {
			t.Fatalf("send %s after the disk had room again: %v", cid, a.err)
		}
		if i%4 == 3 {
			if st, body := agentSays(200 + i); st != http.StatusCreated {
				t.Fatalf("agent reply after the disk had room again: %d %v", st, body)
			}
		}
	}
	delete(refused, retried)
	// The search index, whose batches failed with the rest, catches up:
	// "after" is a word of the messages sent since.
	deadline = time.Now().Add(20 * time.Second)
	for {
		var found struct{ Results []struct{ Field string } }
		if st, body := api.do("GET", "/api/v1/search?q=after", nil, &found); st != 200 {
			t.Fatalf("search: %d %s", st, body)
		}
		if len(found.Results) > 0 && found.Results[0].Field == "message" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search 20s after the disk had room again: %+v, want the messages sent since", found)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := uploadTo(grant, "after.txt", "stored again"); err != nil {
		t.Fatalf("upload after the disk had room again: %v", err)
	}

	// Read back: every acknowledged message once, in order; nothing refused.
	check := func(base string) {
		t.Helper()
		api := newMailAPI(t, base)
		var got []string
		for _, m := range threadMessages(t, api, threadID) {
			if m["type"] == "MESSAGE" {
				got = append(got, m["text"].(string))
			}
		}
		if len(got) != len(acked) {
			t.Errorf("%d messages in the thread, want the %d acknowledged", len(got), len(acked))
		}
		for i := range min(len(got), len(acked)) {
			if got[i] != acked[i] {
				t.Fatalf("message %d is %.20q, want %.20q (acknowledged in that order)", i, got[i], acked[i])
			}
		}
		stored := map[string]bool{}
		for _, s := range got {
			stored[s] = true
		}
		for cid, s := range refused {
			if stored[s] {
				t.Errorf("refused message %s is stored", cid)
			}
		}
	}
	check(p.base())
	if err := tab.c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	if got := <-published; !slices.Equal(got, acked) {
		t.Errorf("the second tab saw %d messages, want the %d acknowledged, each once and in order", len(got), len(acked))
	}
	t.Logf("%d messages acknowledged, %d refused; the first refusal came %d sends after the disk filled",
		len(acked), len(refused), firstRefused)

	// Stopped: the file is consistent and opens again.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code after SIGTERM=%d, want 0", code)
	}
	if _, err := store.CheckFile(filepath.Join(data, "parley.db")); err != nil {
		t.Fatalf("consistency check: %v", err)
	}
	p2 := startProc(t, data)
	check(p2.base())
}

// TestBrowserDiskFull: visitors on a page in English and one in German
// write while Parley's disk is full. The message is marked as not sent,
// with the reason in the page's language and a Retry button; once the disk
// has room, Retry from the keyboard sends it, and it is stored once.
func TestBrowserDiskFull(t *testing.T) {
	if ranInNamespace(t) {
		return
	}
	disk := smallDisk(t, "64m")
	data := filepath.Join(disk, "data")
	p := startProc(t, data, noPerIPLimits...)
	browser := newBrowser(t)
	host := hostPages(t, p.base(), map[string]string{
		"/en": axeHostPage("en", "Pricing"),
		"/de": axeHostPage("de", "Preise"),
	})
	langs := []struct {
		lang, box, send, retry, refused string
	}{
		{"en", "Message", "Send", "Retry", "Not sent: the chat cannot store messages right now. Please try again later."},
		{"de", "Nachricht", "Senden", "Erneut versuchen", "Nicht gesendet: Der Chat kann gerade keine Nachrichten speichern. Bitte versuchen Sie es später noch einmal."},
	}
	// say writes text into the chat's box and sends it with Enter.
	say := func(tab context.Context, box, text string) {
		t.Helper()
		field := byName(widgetRoot, "textarea", box)
		// The text is long (see below): set at once, not key by key.
		if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(function(){ const el = `+field+`; el.focus(); el.value = `+jsString(text)+`; el.dispatchEvent(new Event('input', {bubbles: true})); return true; })()`)); err != nil {
			t.Fatal(err)
		}
		if err := pressEnter(tab); err != nil {
			t.Fatal(err)
		}
	}
	long := func(s string) string { return s + " " + strings.Repeat("x", 8<<10) }
	tabs := make([]context.Context, len(langs))
	for i, l := range langs {
		tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/"+l.lang+"#hs-chat-open")); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(tab, byName(widgetRoot, "textarea", l.box)+" !== null", 10*time.Second); err != nil {
			t.Fatalf("%s: the chat did not open: %v", l.lang, err)
		}
		say(tab, l.box, "hello "+l.lang)
		if err := waitJS(tab, widgetRoot+`.querySelector('[role=log]').textContent.includes('hello `+l.lang+`') && !`+widgetRoot+`.querySelector('.pe')`, liveWait); err != nil {
			t.Fatalf("%s: the first message was not sent: %v", l.lang, err)
		}
		tabs[i] = tab
	}

	// Full: a socket visitor sends until its messages are refused, so that
	// the freed pages are used up; then the browsers' messages find no room.
	filler := filepath.Join(disk, "filler")
	fillDisk(t, filler)
	v, _ := dialVisitor(t, p.base(), "")
	defer v.c.CloseNow()
	for i := 0; ; i++ {
		if i == 200 {
			t.Fatal("200 sends on a full disk, none refused")
		}
		if a := v.send(t, fmt.Sprintf("fill-%d", i), long("fill")); a.err != nil {
			break
		}
	}
	for i, l := range langs {
		text := long("refused " + l.lang)
		say(tabs[i], l.box, text)
		failed := widgetRoot + `.querySelector('.er')`
		if err := waitJS(tabs[i], failed+` !== null && `+failed+`.textContent.includes(`+jsString(l.refused)+`) && `+byName(widgetRoot+`.querySelector('.er')`, "button", l.retry)+` !== null`, liveWait); err != nil {
			t.Fatalf("%s: the refused message is not marked, with %q and a %q button: %v", l.lang, l.refused, l.retry, err)
		}
	}

	// Room again: Retry, from the keyboard, sends it.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for st, _ := health(t, p.base()); st != http.StatusOK; st, _ = health(t, p.base()) {
		if time.Now().After(deadline) {
			t.Fatalf("healthz 20s after the disk had room again: %d", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	api := newMailAPI(t, p.base())
	for i, l := range langs {
		retry := byName(widgetRoot+`.querySelector('.er')`, "button", l.retry)
		if _, err := chromedp.Run(tabs[i], chromedp.Evaluate[bool](`(function(){ const b = `+retry+`; b.focus(); return document.activeElement === document.querySelector('#parley-chat'); })()`)); err != nil {
			t.Fatal(err)
		}
		if err := pressEnter(tabs[i]); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(tabs[i], `!`+widgetRoot+`.querySelector('.er') && !`+widgetRoot+`.querySelector('.pe')`, liveWait); err != nil {
			t.Fatalf("%s: Retry did not send the message: %v", l.lang, err)
		}
		text := long("refused " + l.lang)
		var threads struct{ Results []struct{ ID string } }
		if st, body := api.do("GET", "/conversations/v3/conversations/threads?limit=100", nil, &threads); st != 200 {
			t.Fatalf("threads: %d %s", st, body)
		}
		n := 0
		for _, th := range threads.Results {
			for _, m := range threadMessages(t, api, th.ID) {
				if m["text"] == text {
					n++
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: the retried message is stored %d times, want once", l.lang, n)
		}
	}
}
