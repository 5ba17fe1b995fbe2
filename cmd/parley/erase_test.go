package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEraseThenCompact: a contact chats with a word of its own — in its
// messages, in a file it uploaded, in its name and address — and is erased
// through gdpr-delete. The file's blob is gone from the data directory at
// once; the word is still in the database file's free pages until Parley
// stops and parley compact rewrites the file, after which it is nowhere,
// while another conversation is served as before.
func TestEraseThenCompact(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir)
	const word = "wqpzmtkd-erase-proof"
	v, _ := dialVisitor(t, p.base(), "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v.write(t, map[string]any{"type": "upload.grant"})
	var grant string
	for grant == "" {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			switch ev["type"] {
			case "upload.granted":
				grant = ev["url"].(string)
			case "error":
				t.Fatalf("upload.grant: %v", ev)
			}
		}
	}
	fileID, err := uploadTo(grant, word+".txt", "the file of "+word+" "+strings.Repeat("padding ", 100))
	if err != nil {
		t.Fatal(err)
	}
	v.write(t, map[string]any{"type": "message.send", "clientId": "f", "text": "my file", "attachments": []string{fileID}})
	waitAck(t, v)
	for i := range 20 {
		v.write(t, map[string]any{"type": "message.send", "clientId": fmt.Sprint("m", i), "text": fmt.Sprintf("%s %d %s", word, i, strings.Repeat("padding ", 50))})
		waitAck(t, v)
	}
	kept, _ := dialVisitor(t, p.base(), "")
	kept.write(t, map[string]any{"type": "message.send", "clientId": "k", "text": "this conversation stays"})
	waitAck(t, kept)

	admin := newMailAPI(t, p.base())
	var th struct{ AssociatedContactID string }
	if st, body := admin.do("GET", "/conversations/v3/conversations/threads/1", nil, &th); st != 200 {
		t.Fatalf("the thread: %d %s", st, body)
	}
	if st, body := admin.do("PATCH", "/api/v1/contacts/"+th.AssociatedContactID, map[string]any{"firstName": word, "email": word + "@example.com"}, nil); st != 200 {
		t.Fatalf("name the contact: %d %s", st, body)
	}
	blobsDir := filepath.Join(dir, filesDir)
	if n := filesHolding(t, blobsDir, word); n != 1 {
		t.Fatalf("%d blobs hold the word before the erasure, want 1: the test would prove nothing", n)
	}
	if st, body := admin.do("POST", "/crm/v3/objects/contacts/gdpr-delete", map[string]any{"objectId": word + "@example.com", "idProperty": "email"}, nil); st != 204 {
		t.Fatalf("gdpr-delete: %d %s", st, body)
	}
	if n := filesHolding(t, blobsDir, word); n != 0 {
		t.Errorf("%d blobs still hold the erased contact's file", n)
	}

	stopCompact(t, p, dir, word)
	if n := filesHolding(t, blobsDir, word); n != 0 {
		t.Errorf("%d blobs hold the erased contact's file after compaction", n)
	}
	p2 := startProc(t, dir)
	if got := apiGet(t, p2.base(), "/conversations/v3/conversations/threads/2/messages"); !bytes.Contains(got, []byte("this conversation stays")) {
		t.Errorf("the kept thread after compaction: %s", got)
	}
}

// filesHolding counts the files under dir whose bytes contain word.
func filesHolding(t *testing.T, dir, word string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(word)) {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
