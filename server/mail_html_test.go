package server_test

import (
	"strings"
	"testing"
)

// TestMailHTML: an email's HTML is shown as its own sandboxed document:
// no script, no handler, no link into Parley, inline images from the
// message's files, remote images blocked (and counted, in the agent's
// language) until asked for; only members of the inbox see it.
func TestMailHTML(t *testing.T) {
	e, admin := mailEnv(t, "")
	e.addAgent("outsider@example.com", false)
	outsider := e.login("outsider@example.com")
	img := pngBytes(t)
	deliver(t, e, "From: Ann <ann@customer.example>\nTo: "+supportAddr+"\nSubject: News\nMessage-ID: <html1@customer.example>\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/related; boundary=\"R\"\n\n"+
		"--R\nContent-Type: text/html; charset=utf-8\n\n"+
		`<p onmouseover="steal()">Hello <b>team</b></p><img src="cid:logo@customer"><img src="https://tracker.example/open.gif">`+
		`<script>fetch('/api/v1/tokens',{method:'POST'})</script><a href="javascript:alert(1)">x</a><a href="/api/v1/session">sign out</a>`+"\n"+
		"--R\nContent-Type: image/png\nContent-ID: <logo@customer>\nContent-Transfer-Encoding: base64\n\n"+b64Lines(img)+"\n--R--\n")
	th := threadOf(t, e, "ann@customer.example")
	msgs, _, _ := e.db.Messages(t.Context(), th.ID, 0, 10)
	if len(msgs) != 1 || msgs[0].RichText == "" || !strings.Contains(msgs[0].Text, "Hello team") {
		t.Fatalf("messages=%+v", msgs)
	}
	path := "/api/v1/threads/" + idStr(th.ID) + "/messages/" + idStr(msgs[0].ID) + "/html"

	res := admin.do("GET", path, nil, map[string]string{"Accept-Language": "de"})
	body := string(res.body)
	if res.status != 200 || res.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status=%d type=%q", res.status, res.header.Get("Content-Type"))
	}
	csp := res.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "sandbox") || strings.Contains(csp, "allow-scripts") || strings.Contains(csp, "https:") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP=%q", csp)
	}
	for _, bad := range []string{"script", "onmouseover", "steal", "javascript:", "tracker.example", "/api/v1/session"} {
		if strings.Contains(body, bad) {
			t.Errorf("the document holds %q: %s", bad, body)
		}
	}
	if !strings.Contains(body, "<b>team</b>") || !strings.Contains(body, `src="`+e.base+`/files/`) || !strings.Contains(body, "Externe Bilder blockiert: 1.") {
		t.Errorf("document=%s", body)
	}

	res = admin.do("GET", path+"?remoteImages=true", nil, nil)
	if !strings.Contains(string(res.body), "https://tracker.example/open.gif") || strings.Contains(string(res.body), `class="parley-blocked"`) ||
		!strings.Contains(res.header.Get("Content-Security-Policy"), "https:") {
		t.Errorf("with remote images: CSP=%q body=%s", res.header.Get("Content-Security-Policy"), res.body)
	}
	if r := outsider.do("GET", path, nil, nil); r.status != 404 {
		t.Errorf("agent of another inbox: status=%d, want 404", r.status)
	}
	if r := admin.do("GET", path+"?images=1", nil, nil); r.status != 400 {
		t.Errorf("unknown parameter: status=%d, want 400", r.status)
	}

	deliver(t, e, rawMail("bob@customer.example", "plain", "plain1@customer.example", "", "just text"))
	plain := threadOf(t, e, "bob@customer.example")
	pm, _, _ := e.db.Messages(t.Context(), plain.ID, 0, 10)
	if r := admin.do("GET", "/api/v1/threads/"+idStr(plain.ID)+"/messages/"+idStr(pm[0].ID)+"/html", nil, nil); r.status != 404 {
		t.Errorf("a mail without HTML: status=%d, want 404", r.status)
	}
}
