package server_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
)

// postMultipart posts a multipart upload with no credentials but the URL's.
func postMultipart(t *testing.T, rawURL, name, content string) response {
	t.Helper()
	body, typ := multipartBody(t, [3]string{"file", name, content})
	req, _ := http.NewRequest("POST", rawURL, strings.NewReader(body))
	req.Header.Set("Content-Type", typ)
	req.Header.Set("Origin", "http://customer.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return response{status: res.StatusCode, body: b.Bytes(), header: res.Header}
}

// TestAgentSendsFiles: an agent uploads, then posts a message that carries
// the upload (v3 API, HubSpot's attachment shape); the visitor gets the
// file with a link that serves it.
func TestAgentSendsFiles(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("member@example.com", true)
	e.addAgent("other@example.com", true)
	member, other := e.login("member@example.com"), e.login("other@example.com")
	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "message.send", "clientId": "v1", "text": "Can you send the invoice?"})
	ack := v.next("message.ack")
	threadID := msgOf(ack)["threadId"].(string)

	img := pngBytes(t)
	res := member.do("POST", "/api/v1/threads/"+threadID+"/files", string(img), map[string]string{"Content-Type": "image/png"})
	if res.status != 400 {
		t.Fatalf("raw upload without a name: status=%d, want 400", res.status)
	}
	body, typ := multipartBody(t, [3]string{"file", "invoice.png", string(img)})
	res = member.do("POST", "/api/v1/threads/"+threadID+"/files", body, map[string]string{"Content-Type": typ})
	var up uploaded
	res.decode(t, &up)

	// Another agent cannot send the member's upload.
	post := func(c *client, text string, atts any) response {
		return c.do("POST", "/conversations/v3/conversations/threads/"+threadID+"/messages", map[string]any{"type": "MESSAGE", "text": text, "attachments": atts}, nil)
	}
	if r := post(other, "", []map[string]any{{"type": "FILE", "fileId": up.ID}}); r.status != 400 || !strings.Contains(string(r.body), "no upload of yours") {
		t.Errorf("another agent sending the upload: status=%d body=%s", r.status, r.body)
	}
	for name, atts := range map[string]any{
		"not a list":      map[string]any{"type": "FILE"},
		"wrong type":      []map[string]any{{"type": "QUICK_REPLIES", "fileId": up.ID}},
		"unknown field":   []map[string]any{{"type": "FILE", "fileId": up.ID, "url": "https://evil.example/x"}},
		"no id":           []map[string]any{{"type": "FILE"}},
		"same file twice": []map[string]any{{"type": "FILE", "fileId": up.ID}, {"type": "FILE", "fileId": up.ID}},
	} {
		if r := post(member, "x", atts); r.status != 400 {
			t.Errorf("%s: status=%d body=%s, want 400", name, r.status, r.body)
		}
	}

	// The file alone, no text.
	res = post(member, "", []map[string]any{{"type": "FILE", "fileId": up.ID}})
	if res.status != 201 {
		t.Fatalf("post with the file: status=%d body=%s", res.status, res.body)
	}
	var m struct {
		ID          string
		Attachments []struct{ Type, FileID, Name, URL, FileUsageType string }
	}
	res.decode(t, &m)
	if len(m.Attachments) != 1 || m.Attachments[0].Type != "FILE" || m.Attachments[0].FileID != up.ID ||
		m.Attachments[0].Name != "invoice.png" || m.Attachments[0].FileUsageType != "IMAGE" {
		t.Fatalf("attachments=%+v", m.Attachments)
	}
	if got := get(t, m.Attachments[0].URL); got.status != 200 || !bytes.Equal(got.body, img) {
		t.Errorf("GET the message's file link: status=%d", got.status)
	}
	// The visitor sees the file, with a link that serves it.
	ev := msgOf(v.next("message.created"))
	atts, _ := ev["attachments"].([]any)
	if len(atts) != 1 {
		t.Fatalf("visitor's message=%v: want one attachment", ev)
	}
	a := atts[0].(map[string]any)
	if a["name"] != "invoice.png" || a["inline"] != true || a["type"] != "image/png" {
		t.Errorf("visitor's attachment=%v", a)
	}
	if got := get(t, a["url"].(string)); got.status != 200 || !bytes.Equal(got.body, img) {
		t.Errorf("GET the visitor's file link: status=%d", got.status)
	}
	// The thread's preview names the file.
	th, err := e.db.Thread(context.Background(), mustID(t, threadID))
	if err != nil || th.Preview != "📎 invoice.png" {
		t.Errorf("preview=%q, %v", th.Preview, err)
	}
	// A file is sent once.
	if r := post(member, "again", []map[string]any{{"type": "FILE", "fileId": up.ID}}); r.status != 400 {
		t.Errorf("sending the same upload twice: status=%d, want 400", r.status)
	}
}

// TestVisitorSendsFiles: a visitor asks its socket for an upload link,
// uploads from the customer's site, and sends the file; agents get it.
// Another visitor can neither use the link's upload nor the file.
func TestVisitorSendsFiles(t *testing.T) {
	e := newEnv(t, nil)
	e.addAgent("member@example.com", true)
	member := e.login("member@example.com")
	aws, _ := member.agentWS()
	v, _ := e.visitor("", 0)

	v.send(map[string]any{"type": "upload.grant"})
	v.next("identity")
	grant := v.next("upload.granted")
	uploadURL := grant["url"].(string)
	if !strings.HasPrefix(uploadURL, e.base+"/widget/v1/files?g=") {
		t.Fatalf("upload url=%q", uploadURL)
	}
	res := postMultipart(t, uploadURL, "../../photo.png", string(pngBytes(t)))
	if res.status != 201 || res.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("visitor upload: status=%d CORS=%q body=%s", res.status, res.header.Get("Access-Control-Allow-Origin"), res.body)
	}
	var up uploaded
	res.decode(t, &up)
	if up.Name != "photo.png" || !up.Inline {
		t.Errorf("upload=%+v", up)
	}

	// Another visitor cannot send it.
	v2, _ := e.visitor("", 0)
	v2.send(map[string]any{"type": "message.send", "clientId": "x1", "text": "mine now", "attachments": []string{up.ID}})
	if ev := v2.next("error"); ev["code"] != "invalid" {
		t.Errorf("another visitor sending the upload: %v", ev)
	}

	v.send(map[string]any{"type": "message.send", "clientId": "p1", "attachments": []string{up.ID}})
	ack := msgOf(v.next("message.ack"))
	if atts, _ := ack["attachments"].([]any); len(atts) != 1 {
		t.Fatalf("ack=%v: want the attachment", ack)
	}
	got := msgOf(aws.next("message.created"))
	atts, _ := got["attachments"].([]any)
	if len(atts) != 1 || atts[0].(map[string]any)["name"] != "photo.png" {
		t.Fatalf("agent's message=%v", got)
	}

	// A forged or altered grant uploads nothing.
	for name, u := range map[string]string{
		"no grant":      e.base + "/widget/v1/files",
		"altered grant": strings.Replace(uploadURL, "g=", "g=9", 1),
		"garbage":       e.base + "/widget/v1/files?g=1.1.99999999999.AAAA",
	} {
		if r := postMultipart(t, u, "a.txt", "x"); r.status != 401 {
			t.Errorf("%s: status=%d body=%s, want 401", name, r.status, r.body)
		}
	}
	keys, _ := e.db.FileKeys(context.Background())
	if len(keys) != 1 {
		t.Errorf("%d files on record, want 1", len(keys))
	}
}

// TestVisitorFilesSwitchedOff: a widget that takes no files grants no
// upload and refuses a message with one.
func TestVisitorFilesSwitchedOff(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	v, _ := e.visitor("", 0)
	v.send(map[string]any{"type": "upload.grant"})
	grant := v.next("upload.granted")
	if _, err := e.db.UpdateWidget(ctx, e.widget.ID, func(w *parley.Widget) error {
		w.Options.DisableAttachment = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	v.send(map[string]any{"type": "upload.grant"})
	if ev := v.next("error"); ev["code"] != "invalid" || !strings.Contains(ev["message"].(string), "takes no files") {
		t.Errorf("grant on a widget without files: %v", ev)
	}
	if r := postMultipart(t, grant["url"].(string), "a.txt", "x"); r.status != 400 {
		t.Errorf("upload with an earlier grant: status=%d, want 400", r.status)
	}
}
