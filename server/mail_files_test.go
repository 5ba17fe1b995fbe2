package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/blob"
	"github.com/parley-chat/parley/internal/mailpit"
	"github.com/parley-chat/parley/mail"
)

// mailFilesEnv is mailEnv whose outbound mail reads files from the
// server's own file store.
func mailFilesEnv(t *testing.T, smtpAddr string) (*env, *client) {
	t.Helper()
	blobs, err := blob.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := mail.NewSender("smtp://"+smtpAddr+"?tls=none", &mail.SenderOptions{Timeout: 5 * time.Second, Blobs: blobs})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, &envOptions{app: app.Config{MailFrom: "parley@parley.test", MailRetry: 20 * time.Millisecond, MailAttempts: 3, Mailer: s, Blobs: blobs}})
	admin := e.login("admin@example.com")
	if res := admin.do("PATCH", "/api/v1/inboxes/"+idStr(e.inbox.ID), map[string]any{"emailAddresses": []string{supportAddr}}, nil); res.status != 200 {
		t.Fatalf("set inbox address: %d %s", res.status, res.body)
	}
	return e, admin
}

func b64Lines(data []byte) string {
	s := base64.StdEncoding.EncodeToString(data)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	return out.String() + s
}

// TestMailFiles: an email's attachments and inline images are kept on its
// message and served; a mail that is only a screenshot keeps it without
// "(no text)"; an agent's reply sends its files, and Mailpit receives
// them byte for byte.
func TestMailFiles(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailFilesEnv(t, mp.SMTPAddr)
	ctx := context.Background()
	img := pngBytes(t)
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	deliver(t, e, "From: Ann <ann@customer.example>\nTo: "+supportAddr+"\nSubject: Invoice\nMessage-ID: <inv1@customer.example>\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"M\"\n\n"+
		"--M\nContent-Type: multipart/related; boundary=\"R\"\n\n"+
		"--R\nContent-Type: text/html; charset=utf-8\n\n<p>Our logo <img src=\"cid:logo@customer\"> and the invoice.</p>\n"+
		"--R\nContent-Type: image/png\nContent-ID: <logo@customer>\nContent-Transfer-Encoding: base64\n\n"+b64Lines(img)+"\n--R--\n"+
		"--M\nContent-Type: application/pdf; name=\"invoice.pdf\"\nContent-Disposition: attachment; filename=\"invoice.pdf\"\nContent-Transfer-Encoding: base64\n\n"+b64Lines(pdf)+"\n--M--\n")
	th := threadOf(t, e, "ann@customer.example")
	msgs, _, err := e.db.Messages(ctx, th.ID, 0, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages=%d, %v", len(msgs), err)
	}
	m := msgs[0]
	if !strings.Contains(m.Text, "Our logo") || len(m.Attachments) != 2 {
		t.Fatalf("text=%q attachments=%+v", m.Text, m.Attachments)
	}
	logo, inv := m.Attachments[0], m.Attachments[1]
	if logo.ContentID != "logo@customer" || !logo.Inline || logo.Type != "image/png" || inv.Name != "invoice.pdf" || inv.Type != "application/pdf" || inv.Inline {
		t.Errorf("attachments=%+v", m.Attachments)
	}
	// Served to the inbox's agents as they are.
	for _, at := range m.Attachments {
		res := admin.do("GET", "/files/"+idStr(at.FileID)+"/x", nil, nil)
		want := map[bool][]byte{true: img, false: pdf}[at.Inline]
		if res.status != 200 || !bytes.Equal(res.body, want) {
			t.Errorf("GET %s: status=%d, %d bytes", at.Name, res.status, len(res.body))
		}
	}

	// Only a screenshot.
	deliver(t, e, "From: bob@customer.example\nTo: "+supportAddr+"\nSubject: shot\nMessage-ID: <shot1@customer.example>\nMIME-Version: 1.0\n"+
		"Content-Type: image/png; name=shot.png\nContent-Transfer-Encoding: base64\n\n"+b64Lines(img)+"\n")
	bob := threadOf(t, e, "bob@customer.example")
	bm, _, _ := e.db.Messages(ctx, bob.ID, 0, 10)
	if len(bm) != 1 || bm[0].Text != "" || len(bm[0].Attachments) != 1 || bm[0].Attachments[0].Name != "shot.png" || bob.Preview != "📎 shot.png" {
		t.Fatalf("screenshot mail: %+v, preview %q", bm, bob.Preview)
	}

	// The agent replies with a file.
	body, typ := multipartBody(t, [3]string{"file", "Angebot März.pdf", string(pdf)})
	res := admin.do("POST", "/api/v1/threads/"+idStr(th.ID)+"/files", body, map[string]string{"Content-Type": typ})
	var up uploaded
	res.decode(t, &up)
	res = admin.do("POST", "/conversations/v3/conversations/threads/"+idStr(th.ID)+"/messages",
		map[string]any{"type": "MESSAGE", "text": "Here is our offer.", "attachments": []map[string]any{{"type": "FILE", "fileId": up.ID}}}, nil)
	if res.status != 201 {
		t.Fatalf("reply with a file: status=%d body=%s", res.status, res.body)
	}
	got := mp.Wait(t, 10*time.Second, "with the offer", func(m *mailpit.Message) bool { return strings.Contains(m.Text, "Here is our offer.") })
	if len(got.Attachments) != 1 || got.Attachments[0].FileName != "Angebot März.pdf" || got.Attachments[0].ContentType != "application/pdf" {
		t.Fatalf("attachments in the sent mail: %+v", got.Attachments)
	}
	data, err := mp.PartBytes(got.ID, got.Attachments[0].PartID)
	if err != nil || !bytes.Equal(data, pdf) {
		t.Errorf("the sent file: %d bytes, %v; want the uploaded %d", len(data), err, len(pdf))
	}
	_ = parley.MaxFileBytes
}

// TestMailInlineImages: an image in an email reply's rich text, one of the
// agent's uploads, goes out as an inline part its cid: names, without
// being listed among the attachments. An image of a file that is not the
// agent's upload, or of a file that is no image, stores and sends nothing.
func TestMailInlineImages(t *testing.T) {
	mp := mailpit.Start(t)
	e, admin := mailFilesEnv(t, mp.SMTPAddr)
	img := pngBytes(t)
	deliver(t, e, "From: Ann <ann@customer.example>\nTo: "+supportAddr+"\nSubject: Where\nMessage-ID: <w1@customer.example>\n\nWhere do I click?\n")
	th := threadOf(t, e, "ann@customer.example")
	upload := func(c *client, name string, data []byte) uploaded {
		t.Helper()
		body, typ := multipartBody(t, [3]string{"file", name, string(data)})
		res := c.do("POST", "/api/v1/threads/"+idStr(th.ID)+"/files", body, map[string]string{"Content-Type": typ})
		if res.status != 201 {
			t.Fatalf("upload %s: %d %s", name, res.status, res.body)
		}
		var up uploaded
		res.decode(t, &up)
		return up
	}
	post := func(c *client, rich string) response {
		return c.do("POST", "/conversations/v3/conversations/threads/"+idStr(th.ID)+"/messages",
			map[string]any{"type": "MESSAGE", "text": "", "richText": rich}, nil)
	}
	count := func() int {
		msgs, _, err := e.db.Messages(context.Background(), th.ID, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		return len(msgs)
	}

	// Hostile: another agent's upload, and a PDF shown as an image.
	e.addAgent("bea@example.com", true)
	bea := e.login("bea@example.com")
	theirs := upload(bea, "theirs.png", img)
	pdf := upload(admin, "offer.pdf", []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
	before := count()
	for _, tt := range []struct{ name, rich, why string }{
		{"another agent's upload", `<p>Look <img src="/files/` + theirs.ID + `/theirs.png" alt="x"></p>`, "no upload of yours"},
		{"no image", `<p>Look <img src="/files/` + pdf.ID + `/offer.pdf" alt="x"></p>`, "no image"},
	} {
		if res := post(admin, tt.rich); res.status != 400 || !strings.Contains(string(res.body), tt.why) {
			t.Errorf("%s: status=%d body=%s, want 400 saying %q", tt.name, res.status, res.body, tt.why)
		}
	}
	if n := count(); n != before {
		t.Fatalf("refused replies stored %d messages", n-before)
	}

	shot := upload(admin, "where.png", img)
	res := post(admin, `<p>Click <b>here</b>:</p><p><img src="/files/`+shot.ID+`/where.png" alt="the button"></p>`)
	if res.status != 201 {
		t.Fatalf("reply: %d %s", res.status, res.body)
	}
	var msg struct {
		Attachments []struct{ FileID string }
	}
	res.decode(t, &msg)
	if len(msg.Attachments) != 1 || msg.Attachments[0].FileID != shot.ID {
		t.Errorf("the message's files: %+v, want the image", msg.Attachments)
	}
	got := mp.Wait(t, 10*time.Second, "the reply with an image", func(m *mailpit.Message) bool { return strings.Contains(m.Text, "Click here") })
	if len(got.Inline) != 1 || len(got.Attachments) != 0 {
		t.Fatalf("inline=%+v attachments=%+v, want one inline image", got.Inline, got.Attachments)
	}
	part := got.Inline[0]
	if part.ContentType != "image/png" || part.ContentID == "" || !strings.Contains(got.HTML, `src="cid:`+part.ContentID+`"`) || strings.Contains(got.HTML, "/files/") {
		t.Errorf("part=%+v html=%q", part, got.HTML)
	}
	if data, err := mp.PartBytes(got.ID, part.PartID); err != nil || !bytes.Equal(data, img) {
		t.Errorf("the image sent: %d bytes, %v", len(data), err)
	}
}
