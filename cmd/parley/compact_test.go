package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/parley-chat/parley/store"
)

// TestCompactDropsDeletedData: a conversation deleted for good (moved to
// the trash, then DELETE /api/v1/threads/{id}) leaves its words in the
// database file's free pages; parley compact rewrites the file without
// them, reports the sizes, and Parley serves the rest as before.
func TestCompactDropsDeletedData(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir)
	const secret = "zqxjvbnk-only-in-the-deleted-conversation"
	gone, _ := dialVisitor(t, p.base(), "")
	for i := range 20 {
		gone.write(t, map[string]any{"type": "message.send", "clientId": fmt.Sprint("g", i), "text": fmt.Sprintf("%s %d %s", secret, i, strings.Repeat("padding ", 50))})
		waitAck(t, gone)
	}
	kept, _ := dialVisitor(t, p.base(), "")
	kept.write(t, map[string]any{"type": "message.send", "clientId": "k", "text": "this conversation stays"})
	waitAck(t, kept)
	admin := newMailAPI(t, p.base())
	if st, body := admin.do("DELETE", "/conversations/v3/conversations/threads/1", nil, nil); st != 204 {
		t.Fatalf("to the trash: %d %s", st, body)
	}
	if st, body := admin.do("DELETE", "/api/v1/threads/1", nil, nil); st != 204 {
		t.Fatalf("delete for good: %d %s", st, body)
	}
	if st, _ := admin.do("GET", "/conversations/v3/conversations/threads/1", nil, nil); st != 404 {
		t.Fatalf("the deleted thread: status %d, want 404", st)
	}
	out := stopCompact(t, p, dir, "zqxjvbnk")
	if !strings.Contains(out, "bytes before") || !strings.Contains(out, "after") {
		t.Errorf("compact said %q, want the sizes", out)
	}
	if _, err := store.CheckFile(filepath.Join(dir, store.FileName)); err != nil {
		t.Fatal(err)
	}
	p2 := startProc(t, dir)
	if got := apiGet(t, p2.base(), "/conversations/v3/conversations/threads/2/messages"); !bytes.Contains(got, []byte("this conversation stays")) {
		t.Errorf("the kept thread after compaction: %s", got)
	}
}

// stopCompact stops p, whose data directory is dir, checks that the
// database file holds word (deleted data, in free pages), runs parley
// compact and checks that the file no longer holds it anywhere. It returns
// what compact said.
func stopCompact(t *testing.T, p *proc, dir, word string) string {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p.done
	path := filepath.Join(dir, store.FileName)
	count := func() int {
		t.Helper()
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Count(raw, []byte(word))
	}
	if count() == 0 {
		t.Fatal("the deleted words are not in the file before compaction: the test proves nothing")
	}
	out, err := cli(t, "compact", "--data", dir)
	if err != nil {
		t.Fatalf("compact: %v: %s", err, out)
	}
	if n := count(); n != 0 {
		t.Fatalf("the deleted words are in the file %d times after compaction", n)
	}
	return out
}
