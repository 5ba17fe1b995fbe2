package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/store"
)

// TestKilledUnderUploads kills Parley (SIGKILL) while a visitor uploads
// files and sends messages that carry them, several at a time. After a
// restart every acknowledged message still has its file, byte for byte (no
// dangling reference), and once the start's sweep has run, every stored
// blob is named by a file record (no orphan): what the kill interrupted
// between a blob's write and its record's commit is gone.
func TestKilledUnderUploads(t *testing.T) {
	dir := t.TempDir()
	p := startProc(t, dir)
	v, _ := dialVisitor(t, p.base(), "")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A grant to upload, for the new visitor (it gets its contact first).
	v.write(t, map[string]any{"type": "upload.grant"})
	var grant, token string
	for grant == "" {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			switch ev["type"] {
			case "identity":
				token = ev["visitorToken"].(string)
			case "upload.granted":
				grant = ev["url"].(string)
			case "error":
				t.Fatalf("upload.grant: %v", ev)
			}
		}
	}

	type sent struct{ fileID, content string }
	var (
		mu      sync.Mutex // the socket's writes and the maps below
		pending = map[string]sent{}
		acked   = map[string]sent{}
	)
	const killAt = 60
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Four senders, each: upload a file of its own, then send a message
	// that carries it; until the server is gone.
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				content := fmt.Sprintf("file %d.%d %s", w, i, rand.Text())
				id, err := uploadTo(grant, fmt.Sprintf("f%d-%d.txt", w, i), content)
				if err != nil {
					return // the server is gone
				}
				cid := fmt.Sprintf("m%d-%d", w, i)
				mu.Lock()
				pending[cid] = sent{id, content}
				b, _ := json.Marshal(map[string]any{"type": "message.send", "clientId": cid, "text": "", "attachments": []string{id}})
				wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
				err = v.c.Write(wctx, websocket.MessageText, b)
				wcancel()
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	killed := false
	for !killed {
		evs, err := v.read(ctx)
		if err != nil {
			t.Fatalf("before the kill: %v", err)
		}
		for _, ev := range evs {
			switch ev["type"] {
			case "message.ack":
				cid := ev["clientId"].(string)
				mu.Lock()
				acked[cid] = pending[cid]
				n := len(acked)
				mu.Unlock()
				if n == killAt && !killed {
					if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					killed = true
				}
			case "error":
				if ev["code"] != "rate_limited" {
					t.Fatalf("error event %v", ev)
				}
			}
		}
	}
	<-p.done
	close(stop)
	wg.Wait()

	// Restarted: the visitor's messages come back, each with its file.
	p2 := startProc(t, dir, "PARLEY_LOG_LEVEL=debug")
	v2, _ := dialVisitor(t, p2.base(), token)
	got := map[string][]any{}
	for len(got) < len(acked) {
		evs, err := v2.read(ctx)
		if err != nil {
			t.Fatalf("after the restart: %v (%d of %d messages)", err, len(got), len(acked))
		}
		for _, ev := range evs {
			if ev["type"] == "message.created" {
				m := ev["message"].(map[string]any)
				atts, _ := m["attachments"].([]any)
				got[m["clientId"].(string)] = atts
			}
		}
	}
	for cid, want := range acked {
		atts := got[cid]
		if len(atts) != 1 {
			t.Fatalf("message %s has files %v, want one", cid, atts)
		}
		at := atts[0].(map[string]any)
		if at["id"] != want.fileID {
			t.Errorf("message %s carries file %v, want %s", cid, at["id"], want.fileID)
		}
		res, err := http.Get(at["url"].(string))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(body) != want.content {
			t.Errorf("file of %s: status=%d body=%q, want %q", cid, res.StatusCode, body, want.content)
		}
	}
	// The start's sweep has run; then Parley stops, and the files are
	// looked at as they are on disk.
	deadline := time.After(20 * time.Second)
	sweptOrphans := 0.0
	for swept := false; !swept; {
		select {
		case line, ok := <-p2.logs:
			if !ok {
				t.Fatal("parley exited before sweeping")
			}
			msg, _ := line["message"].(string)
			swept = msg == "deleted files nothing names" || msg == "swept files: nothing to delete"
			if n, ok := line["blobs"].(float64); ok {
				sweptOrphans = n
			}
		case <-deadline:
			t.Fatal("no sweep within 20s of the restart")
		}
	}
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-p2.done

	db, err := store.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	named, err := db.FileKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.Open(filepath.Join(dir, "files"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for key := range named {
		b, err := blobs.Open(context.Background(), key)
		if err != nil {
			t.Errorf("dangling: a file record names blob %s: %v", key, err)
			continue
		}
		b.Close()
	}
	stored := 0
	err = filepath.WalkDir(filepath.Join(dir, "files"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !parley.IsBlobKey(d.Name()) {
			return err
		}
		stored++
		if !named[d.Name()] {
			t.Errorf("orphan: blob %s is named by no file record", d.Name())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stored < len(acked) {
		t.Errorf("%d blobs on disk for %d acknowledged files", stored, len(acked))
	}
	t.Logf("%d messages acknowledged before the kill; the restart deleted %v blobs no record named and kept %d, for %d file records",
		len(acked), sweptOrphans, stored, len(named))
}

// uploadTo posts a file to a visitor's upload grant and returns its id.
func uploadTo(grant, name, content string) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		return "", err
	}
	_, _ = io.WriteString(fw, content)
	_ = mw.Close()
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Post(grant, mw.FormDataContentType(), &body)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(res.Body)
		return "", fmt.Errorf("upload: %d %s", res.StatusCode, b)
	}
	var up struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&up); err != nil {
		return "", err
	}
	return up.ID, nil
}
