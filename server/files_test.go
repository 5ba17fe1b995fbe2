package server_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// pngBytes is a small real PNG.
func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{10, 120, 200, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multipartBody returns a multipart/form-data body with the given parts
// (field name, file name, content) and its Content-Type.
func multipartBody(t *testing.T, parts ...[3]string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		var fw io.Writer
		var err error
		if p[1] == "" {
			fw, err = w.CreateFormField(p[0])
		} else {
			fw, err = w.CreateFormFile(p[0], p[1])
		}
		if err != nil {
			t.Fatal(err)
		}
		fw.Write([]byte(p[2]))
	}
	w.Close()
	return b.String(), w.FormDataContentType()
}

type uploaded struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Type   string `json:"type"`
	Size   int64  `json:"size"`
	Inline bool   `json:"inline"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	URL    string `json:"url"`
}

// fileEnv is a Parley with a chat thread in its inbox, a member agent and
// an agent of another inbox.
type fileEnv struct {
	*env
	thread          *parley.Thread
	member, outside *client
}

func newFileEnv(t *testing.T) *fileEnv {
	e := newEnv(t, nil)
	ctx := context.Background()
	c := &parley.Contact{Email: "vera@example.com"}
	if err := e.db.CreateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	th := &parley.Thread{InboxID: e.inbox.ID, ChannelID: parley.ChannelChat, ChannelAccountID: e.widget.ID, ContactID: c.ID}
	if err := e.db.CreateThread(ctx, th); err != nil {
		t.Fatal(err)
	}
	e.addAgent("member@example.com", true)
	e.addAgent("outsider@example.com", false)
	return &fileEnv{env: e, thread: th, member: e.login("member@example.com"), outside: e.login("outsider@example.com")}
}

func (f *fileEnv) upload(c *client, name, content string) (response, uploaded) {
	f.t.Helper()
	body, typ := multipartBody(f.t.(*testing.T), [3]string{"file", name, content})
	res := c.do("POST", "/api/v1/threads/"+idStr(f.thread.ID)+"/files", body, map[string]string{"Content-Type": typ})
	var u uploaded
	if res.status == http.StatusCreated {
		res.decode(f.t, &u)
	}
	return res, u
}

// get fetches a file's URL with no credentials at all.
func get(t *testing.T, rawURL string) response {
	t.Helper()
	res, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: b, header: res.Header}
}

func TestFileUploadAndServe(t *testing.T) {
	f := newFileEnv(t)
	img := pngBytes(t)
	res, up := f.upload(f.member, "screen shot.png", string(img))
	if res.status != http.StatusCreated {
		t.Fatalf("upload: status=%d body=%s", res.status, res.body)
	}
	if up.Name != "screen shot.png" || up.Type != "image/png" || !up.Inline || up.Width != 4 || up.Height != 3 || up.Size != int64(len(img)) {
		t.Errorf("upload=%+v", up)
	}
	if !strings.HasPrefix(up.URL, f.base+"/files/"+up.ID+"/") {
		t.Fatalf("url=%q, want one under %s/files/%s/", up.URL, f.base, up.ID)
	}

	// The signed link serves it to anyone who holds it, shown inline.
	got := get(t, up.URL)
	if got.status != 200 || !bytes.Equal(got.body, img) {
		t.Fatalf("GET signed link: status=%d, %d bytes", got.status, len(got.body))
	}
	if ct, cd := got.header.Get("Content-Type"), got.header.Get("Content-Disposition"); ct != "image/png" || !strings.HasPrefix(cd, "inline") {
		t.Errorf("Content-Type=%q Content-Disposition=%q, want an inline PNG", ct, cd)
	}

	// Without a signature: members of the inbox only.
	path := "/files/" + up.ID + "/x"
	if r := f.member.do("GET", path, nil, nil); r.status != 200 || !bytes.Equal(r.body, img) {
		t.Errorf("member GET: status=%d", r.status)
	}
	if r := f.outside.do("GET", path, nil, nil); r.status != 404 {
		t.Errorf("agent of another inbox GET: status=%d, want 404", r.status)
	}
	if r := get(t, f.base+path); r.status != 401 {
		t.Errorf("anonymous GET: status=%d, want 401", r.status)
	}

	// A link altered or expired serves nothing.
	u, _ := url.Parse(up.URL)
	q := u.Query()
	for name, edit := range map[string]func(url.Values){
		"other signature": func(v url.Values) { v.Set("s", strings.Repeat("A", len(v.Get("s")))) },
		"later expiry":    func(v url.Values) { v.Set("e", v.Get("e")+"0") },
		"expired":         func(v url.Values) { v.Set("e", "1") },
		"no signature":    func(v url.Values) { v.Del("s") },
	} {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		edit(v)
		if r := get(t, f.base+u.Path+"?"+v.Encode()); r.status != 404 {
			t.Errorf("%s: status=%d, want 404", name, r.status)
		}
	}
	// Another file's id under this file's signature.
	other := *u
	other.Path = "/files/" + idStr(mustID(t, up.ID)+1) + "/x"
	if r := get(t, f.base+other.Path+"?"+q.Encode()); r.status != 404 {
		t.Errorf("signature of another file: status=%d, want 404", r.status)
	}
}

func mustID(t *testing.T, s string) uint64 {
	t.Helper()
	var n uint64
	for _, c := range s {
		n = n*10 + uint64(c-'0')
	}
	return n
}

// TestFileHostileContent: what a file claims to be counts for nothing; only
// images whose bytes decode are shown inline, the rest is a sandboxed
// download.
func TestFileHostileContent(t *testing.T) {
	f := newFileEnv(t)
	for _, tt := range []struct {
		name, content string
	}{
		{"cat.png", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)"><script>alert(1)</script></svg>`},
		{"cat.svg", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>fetch('/api/v1/tokens')</script></svg>`},
		{"page.html", `<!DOCTYPE html><html><body><script>fetch('/api/v1/tokens',{method:'POST'})</script>`},
		{"invoice.pdf", "%PDF-1.4\n%âãÏÓ\n1 0 obj<<>>endobj\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, up := f.upload(f.member, tt.name, tt.content)
			if res.status != http.StatusCreated {
				t.Fatalf("upload: status=%d body=%s", res.status, res.body)
			}
			if up.Inline {
				t.Errorf("upload=%+v: shown inline", up)
			}
			got := get(t, up.URL)
			if got.status != 200 || string(got.body) != tt.content {
				t.Fatalf("GET: status=%d body=%q", got.status, got.body)
			}
			h := got.header
			disp, params, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
			if h.Get("Content-Type") != "application/octet-stream" || disp != "attachment" || params["filename"] != tt.name {
				t.Errorf("Content-Type=%q Content-Disposition=%q: want a download named %q", h.Get("Content-Type"), h.Get("Content-Disposition"), tt.name)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
				t.Errorf("nosniff=%q CSP=%q", h.Get("X-Content-Type-Options"), h.Get("Content-Security-Policy"))
			}
		})
	}
}

func TestFileUploadRefusals(t *testing.T) {
	f := newFileEnv(t)
	threadFiles := "/api/v1/threads/" + idStr(f.thread.ID) + "/files"
	tooBig, tooBigType := multipartBody(t, [3]string{"file", "big.bin", strings.Repeat("x", parley.MaxFileBytes+1)})
	extra, extraType := multipartBody(t, [3]string{"file", "a.txt", "hello"}, [3]string{"note", "", "dropped?"})
	noFile, noFileType := multipartBody(t, [3]string{"other", "a.txt", "hello"})
	unnamed, unnamedType := multipartBody(t, [3]string{"file", "", "hello"})
	for _, tt := range []struct {
		name   string
		c      *client
		path   string
		body   string
		header map[string]string
		status int
		msg    string
	}{
		{"too large", f.member, threadFiles, tooBig, map[string]string{"Content-Type": tooBigType}, 413, "larger than 15 MB"},
		{"a second part", f.member, threadFiles, extra, map[string]string{"Content-Type": extraType}, 400, `unknown part "note"`},
		{"no file part", f.member, threadFiles, noFile, map[string]string{"Content-Type": noFileType}, 400, `unknown part "other"`},
		{"file part without a name", f.member, threadFiles, unnamed, map[string]string{"Content-Type": unnamedType}, 400, "no filename"},
		{"raw body without a name", f.member, threadFiles, "hello", map[string]string{"Content-Type": "text/plain"}, 400, "name is required"},
		{"raw body with an unknown parameter", f.member, threadFiles + "?name=a.txt&folder=x", "hello", map[string]string{"Content-Type": "text/plain"}, 400, `unknown query parameter "folder"`},
		{"agent of another inbox", f.outside, threadFiles + "?name=a.txt", "hello", map[string]string{"Content-Type": "text/plain"}, 404, "not found"},
		{"a thread that does not exist", f.member, "/api/v1/threads/999999/files?name=a.txt", "hello", map[string]string{"Content-Type": "text/plain"}, 404, "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.c.do("POST", tt.path, tt.body, tt.header)
			var e struct {
				Message string `json:"message"`
			}
			res.decode(t, &e)
			if res.status != tt.status || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("status=%d body=%s, want %d with %q", res.status, res.body, tt.status, tt.msg)
			}
		})
	}
	keys, err := f.db.FileKeys(context.Background())
	if err != nil || len(keys) != 0 {
		t.Errorf("FileKeys=%v, %v after refused uploads only; want none", keys, err)
	}

	// A raw body with its name works.
	res := f.member.do("POST", threadFiles+"?name=notes.txt", "hello", map[string]string{"Content-Type": "text/plain"})
	if res.status != 201 || !strings.Contains(string(res.body), `"name":"notes.txt"`) {
		t.Errorf("raw upload: status=%d body=%s", res.status, res.body)
	}
}

// TestFileUploadNeedsWriteScope: a read-only token reads files but cannot
// upload.
func TestFileUploadNeedsWriteScope(t *testing.T) {
	f := newFileEnv(t)
	res := f.member.do("POST", "/api/v1/tokens", map[string]any{"name": "ro", "scopes": []string{"read"}}, nil)
	var tok struct {
		Token string `json:"token"`
	}
	res.decode(t, &tok)
	ro := &client{e: f.env, hc: http.DefaultClient, token: tok.Token}
	if r := ro.do("POST", "/api/v1/threads/"+idStr(f.thread.ID)+"/files?name=a.txt", "x", map[string]string{"Content-Type": "text/plain"}); r.status != 403 {
		t.Errorf("upload with a read token: status=%d, want 403", r.status)
	}
	_, up := f.upload(f.member, "a.txt", "x")
	if r := ro.do("GET", "/files/"+up.ID+"/a.txt", nil, nil); r.status != 200 || string(r.body) != "x" {
		t.Errorf("GET with a read token: status=%d body=%q", r.status, r.body)
	}
}

// TestDeleteThreadForGood: only an admin who is a member of the inbox
// deletes a thread, and only from the trash; then the thread, its messages
// and its files are gone, the consoles and the visitor are told, and the
// visitor's next message starts a new conversation.
func TestDeleteThreadForGood(t *testing.T) {
	f := newFileEnv(t)
	admin := f.login("admin@example.com")
	v, _ := f.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "c1", "text": "Please forget me"})
	token, _ := v.next("identity")["visitorToken"].(string)
	threadID := msgOf(v.next("message.ack"))["threadId"].(string)
	f.thread.ID = mustID(t, threadID) // uploads go to the visitor's thread
	res, up := f.upload(f.member, "private.png", string(pngBytes(t)))
	if res.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	if r := f.member.do("POST", "/conversations/v3/conversations/threads/"+threadID+"/messages",
		map[string]any{"type": "MESSAGE", "text": "Here", "attachments": []map[string]any{{"type": "FILE", "fileId": up.ID}}}, nil); r.status != 201 {
		t.Fatalf("post with file: %d %s", r.status, r.body)
	}
	path := "/api/v1/threads/" + threadID
	if r := get(t, up.URL); r.status != 200 {
		t.Fatalf("file before: %d", r.status)
	}

	// A stranger, an agent, an admin outside the inbox: nothing happens.
	req, _ := http.NewRequest("DELETE", f.base+path, nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != 401 {
		t.Errorf("anonymous DELETE: %v %v, want 401", r.StatusCode, err)
	}
	if r := f.member.do("DELETE", path, nil, nil); r.status != 403 {
		t.Errorf("agent DELETE: %d %s, want 403", r.status, r.body)
	}
	outsider := f.addAgent("admin2@example.com", false)
	if _, err := f.db.UpdateUser(context.Background(), outsider.ID, func(u *parley.User) error { u.Role = parley.RoleAdmin; return nil }); err != nil {
		t.Fatal(err)
	}
	if r := f.login("admin2@example.com").do("DELETE", path, nil, nil); r.status != 404 {
		t.Errorf("admin of no such inbox DELETE: %d %s, want 404", r.status, r.body)
	}
	// Not in the trash yet.
	if r := admin.do("DELETE", path, nil, nil); r.status != 409 {
		t.Errorf("DELETE outside the trash: %d %s, want 409", r.status, r.body)
	}
	if r := admin.do("GET", "/conversations/v3/conversations/threads/"+threadID, nil, nil); r.status != 200 {
		t.Fatalf("the refused deletions deleted: %d", r.status)
	}

	agentWS, _ := admin.agentWS()
	if r := admin.do("DELETE", "/conversations/v3/conversations/threads/"+threadID, nil, nil); r.status != 204 {
		t.Fatalf("archive: %d %s", r.status, r.body)
	}
	if r := admin.do("DELETE", path, nil, nil); r.status != 204 {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if ev := agentWS.next("thread.deleted"); ev["threadId"] != threadID || ev["inboxId"] != idStr(f.inbox.ID) {
		t.Errorf("console got %v", ev)
	}
	if ev := v.next("thread.deleted"); ev["threadId"] != threadID {
		t.Errorf("visitor got %v", ev)
	}
	if r := admin.do("GET", "/conversations/v3/conversations/threads/"+threadID, nil, nil); r.status != 404 {
		t.Errorf("thread after: %d, want 404", r.status)
	}
	if r := admin.do("DELETE", path, nil, nil); r.status != 404 {
		t.Errorf("second DELETE: %d, want 404", r.status)
	}
	if r := get(t, up.URL); r.status != 404 {
		t.Errorf("file after: %d, want 404", r.status)
	}
	if hits, _, err := f.db.Search(context.Background(), parley.SearchQuery{Text: "forget", Limit: 5}); err != nil || len(hits) != 0 {
		t.Errorf("search after: %v, %v", hits, err)
	}

	// The visitor comes back: no thread, and writing starts a new one.
	v2, ready := f.visitor(token, 5)
	if ready["thread"] != nil {
		t.Errorf("ready after deletion: %v", ready)
	}
	v2.send(map[string]any{"type": "message.send", "clientId": "c2", "text": "Hello again"})
	if m := msgOf(v2.next("message.ack")); m["threadId"] == threadID || m["seq"] != float64(1) {
		t.Errorf("new message %v, want a new thread from seq 1", m)
	}
}
