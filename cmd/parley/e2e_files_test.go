package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/internal/mailpit"
	"github.com/parley-chat/parley/mail"
)

// jsFile is a JS expression: a File named name holding the bytes b.
func jsFile(name string, b []byte, typ string) string {
	return `new File([Uint8Array.from(atob(` + jsString(base64.StdEncoding.EncodeToString(b)) + `), c => c.charCodeAt(0))], ` +
		jsString(name) + `, {type: ` + jsString(typ) + `})`
}

// TestBrowserFiles: a visitor attaches an image with "Attach file", drops
// a hostile SVG that claims to be a PNG and a hostile HTML page, and is told
// at once that too large a file is not sent; the agent sees the image as a
// thumbnail and the others as downloads (the page served in a sandbox),
// attaches a text file and a PDF in the console (too large a file refused)
// and sends them; the visitor gets them. A page that sets disableAttachment
// offers no "Attach file".
func TestBrowserFiles(t *testing.T) {
	browser := newBrowser(t)
	e := startWidgetEnv(t)
	host := hostPages(t, e.base, map[string]string{
		"/":       sdkPage(`lang="en"`, `{}`, ``),
		"/nofile": sdkPage(`lang="en"`, `{ disableAttachment: true }`, ``),
	})
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{200, 40, 40, 255})
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)"><script>alert(1)</script></svg>`)

	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.Navigate(host.URL+"/#hs-chat-open")); err != nil {
		t.Fatal(err)
	}
	attach := byName(widgetRoot, "button", "Attach file")
	step(t, tab, "Attach file offered", ``, wopen+` && `+attach+` !== null && `+widgetRoot+`.querySelector('input[type=file]') !== null`)
	actVisitorSay(t, tab, "Here is my screenshot")

	// The file input, as the file chooser fills it.
	step(t, tab, "choose an image", `(() => { const dt = new DataTransfer(); dt.items.add(`+jsFile("screen.png", pngBuf.Bytes(), "image/png")+`);
		const input = `+widgetRoot+`.querySelector('input[type=file]'); input.files = dt.files; input.dispatchEvent(new Event('change')); })()`,
		`[...`+wlog+`.querySelectorAll('img')].some(i => i.alt === 'screen.png' && i.complete && i.naturalWidth === 4) && !`+widgetRoot+`.querySelector('.pe')`)
	// Dropped on the panel: a script in SVG that claims to be a PNG.
	step(t, tab, "drop a hostile file", `(() => { const dt = new DataTransfer(); dt.items.add(`+jsFile("cat.png", svg, "image/png")+`);
		`+wpanel+`.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); })()`,
		`[...`+wlog+`.querySelectorAll('a.fa')].some(a => a.textContent.includes('cat.png') && a.href.startsWith(`+jsString(e.base+"/files/")+`)) && !`+wlog+`.querySelector('img[alt="cat.png"]') && !`+widgetRoot+`.querySelector('.pe')`)
	// A page that claims to be an invoice: a download, never a page.
	step(t, tab, "drop a hostile page", `(() => { const dt = new DataTransfer(); dt.items.add(`+jsFile("invoice.html", []byte(`<html><body><script>parent.postMessage('pwned','*')</script>Pay here</body></html>`), "text/html")+`);
		`+wpanel+`.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); })()`,
		`[...`+wlog+`.querySelectorAll('a.fa')].some(a => a.textContent.includes('invoice.html')) && !`+widgetRoot+`.querySelector('.pe')`)
	// Too large: refused at once with a clear notice, nothing sent.
	step(t, tab, "an oversized file", `(() => { const dt = new DataTransfer(); dt.items.add(new File([new Uint8Array(16 << 20)], 'huge.bin'));
		const input = `+widgetRoot+`.querySelector('input[type=file]'); input.files = dt.files; input.dispatchEvent(new Event('change')); })()`,
		widgetRoot+`.textContent.includes('Not sent: huge.bin is larger than 15 MB.') && ![...`+wlog+`.querySelectorAll('a.fa')].some(a => a.textContent.includes('huge.bin'))`)
	widgetShot(t, tab, "widget-files.png")

	// The agent sees both, the image as a thumbnail.
	agent, cancelA := chromedp.NewContext(browser)
	defer cancelA()
	actSignIn(t, agent, e.base, "admin@example.com")
	if err := waitJS(agent, `!!(`+actRow("invoice.html")+`)`, liveWait); err != nil {
		rows, _ := chromedp.Run(agent, chromedp.Evaluate[string](`[...document.querySelectorAll('a.thread-row')].map(a => a.textContent).join(' | ') + ' // ' + document.body.innerText.slice(0, 500)`))
		t.Fatalf("%v; rows: %s", err, rows)
	}
	if err := click(agent, actRow("invoice.html")); err != nil {
		t.Fatal(err)
	}
	step(t, agent, "the visitor's files in the console", ``,
		`[...document.querySelectorAll('.msg-file-image img')].some(i => i.alt === 'screen.png' && i.complete && i.naturalWidth === 4) && `+
			`[...document.querySelectorAll('.msg-file a')].some(a => a.textContent.includes('cat.png') && a.hasAttribute('download'))`)

	// The hostile page is served as a download in a sandbox, whatever the
	// browser makes of it.
	headers, err := chromedp.Run(agent, chromedp.Evaluate[string](`(async () => {
		const a = [...document.querySelectorAll('.msg-file a')].find(a => a.textContent.includes('invoice.html'));
		const r = await fetch(a.href);
		return [r.status, r.headers.get('content-type'), r.headers.get('content-disposition'), r.headers.get('content-security-policy'), r.headers.get('x-content-type-options')].join(' | ');
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(headers, "200 | application/octet-stream | attachment") || !strings.Contains(headers, "sandbox") || !strings.HasSuffix(headers, "| nosniff") {
		t.Errorf("the hostile page is served as %q", headers)
	}

	// The agent attaches a file and a PDF and sends them with text; too
	// large a file is refused with a clear word.
	pdf := []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
	step(t, agent, "attach in the console", `(() => { const dt = new DataTransfer(); dt.items.add(`+jsFile("notes.txt", []byte("The steps, in order."), "text/plain")+`);
		dt.items.add(`+jsFile("offer.pdf", pdf, "application/pdf")+`); dt.items.add(new File([new Uint8Array(16 << 20)], 'huge.iso'));
		const input = document.querySelector('.composer input[type=file]'); input.files = dt.files; input.dispatchEvent(new Event('change')); })()`,
		`[...document.querySelectorAll('.composer-file')].some(f => f.textContent.includes('notes.txt') && !f.classList.contains('is-pending')) && `+
			`[...document.querySelectorAll('.composer-file')].some(f => f.textContent.includes('offer.pdf') && !f.classList.contains('is-pending')) && `+
			`![...document.querySelectorAll('.composer-file')].some(f => f.textContent.includes('huge.iso')) && document.body.textContent.includes('huge.iso is larger than 15 MB.')`)
	if err := typeInto(agent, `document.querySelector('textarea.reply')`, "See the notes"); err != nil {
		t.Fatal(err)
	}
	if err := click(agent, byName("document", "button", "Send")); err != nil {
		t.Fatal(err)
	}
	step(t, agent, "sent with its files", ``, `[...document.querySelectorAll('.msg-out .msg-file a')].some(a => a.textContent.includes('notes.txt')) && `+
		`[...document.querySelectorAll('.msg-out .msg-file a')].some(a => a.textContent.includes('offer.pdf')) && !document.querySelector('.composer-file')`)
	step(t, tab, "the visitor gets them", ``, `[...`+wlog+`.querySelectorAll('a.fa')].some(a => a.textContent.includes('notes.txt')) && `+
		`[...`+wlog+`.querySelectorAll('a.fa')].some(a => a.textContent.includes('offer.pdf')) && `+wlog+`.textContent.includes('See the notes')`)

	// A page that turns attachments off.
	other, cancelO := chromedp.NewContext(browser)
	defer cancelO()
	if err := chromedp.Do(other, chromedp.Navigate(host.URL+"/nofile#hs-chat-open")); err != nil {
		t.Fatal(err)
	}
	step(t, other, "no Attach file", ``, wopen+` && `+byName(widgetRoot, "textarea", "Message")+` !== null && `+attach+` === null && !`+widgetRoot+`.querySelector('input[type=file]')`)
}

// TestBrowserMailHTML: an email's HTML shows in the console on request, in
// a frame where its script does not run, with its inline image, and its
// remote image only once the agent loads it.
func TestBrowserMailHTML(t *testing.T) {
	browser := newBrowser(t)
	base, a := startWithMailer(t, nil)
	deliver := supportMail(t, base, a)
	img := image.NewRGBA(image.Rect(0, 0, 6, 4))
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	raw := "From: Ann <ann@customer.example>\r\nTo: support@parley.test\r\nSubject: Newsletter\r\nMessage-ID: <h1@customer.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"R\"\r\n\r\n" +
		"--R\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		`<h1 id="t">Spring news</h1><img alt="logo" src="cid:logo@x"><img alt="remote" src="https://remote.invalid/p.png"><script>document.title='pwned';parent.document.title='pwned'</script>` + "\r\n" +
		"--R\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString(pngBuf.Bytes()) + "\r\n--R--\r\n"
	deliver(raw)
	tab, cancel := openThread(t, browser, base, "Newsletter")
	defer cancel()
	show := byName("document", "button", "Show formatted email")
	step(t, tab, "the email, as text, offers its HTML", ``, show+` !== null && document.querySelector('.messages').textContent.includes('Spring news')`)
	if err := click(tab, show); err != nil {
		t.Fatal(err)
	}
	frame := `document.querySelector('iframe.msg-html-frame')`
	doc := frame + `.contentDocument`
	step(t, tab, "shown in its frame", ``, `!!`+frame+` && `+doc+` && `+doc+`.getElementById('t') && `+doc+`.getElementById('t').textContent === 'Spring news' && `+
		frame+`.offsetHeight > 40 && [...`+doc+`.images].some(i => i.alt === 'logo' && i.complete && i.naturalWidth === 6) && ![...`+doc+`.images].some(i => i.alt === 'remote') && `+
		doc+`.querySelector('.parley-blocked') !== null && document.title !== 'pwned' && `+doc+`.title !== 'pwned' && !`+doc+`.querySelector('script')`)
	// The link inside the frame, by keyboard: focused, then Enter.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](doc+`.querySelector('.parley-blocked a').focus()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "remote images once asked for", ``, `!!`+doc+` && [...`+doc+`.images].some(i => i.alt === 'remote') && !`+doc+`.querySelector('.parley-blocked') && document.title !== 'pwned'`)
	// By keyboard: the list keeps to its bottom as the frame grows with
	// its images, so a click by coordinates could land beside the button.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](byName("document", "button", "Hide formatted email")+`.focus()`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "hidden again", ``, `!`+frame)
}

// TestBrowserRichReply: an admin writes a template in Settings; an agent
// switches the email reply to Format, writes with bold, inserts the team's
// template (filled in for the thread) and sends; the mail leaves as HTML
// with a text part.
func TestBrowserRichReply(t *testing.T) {
	browser := newBrowser(t)
	mp := mailpit.Start(t)
	base, a := startWithMailer(t, smtpSender(t, mp.SMTPAddr))
	deliver := supportMail(t, base, a)
	deliver("From: Ann <ann@customer.example>\r\nTo: support@parley.test\r\nSubject: Parcel\r\nMessage-ID: <p1@customer.example>\r\n\r\nWhere is my parcel?\r\n")
	tab, cancel := openThread(t, browser, base, "Parcel")
	defer cancel()
	threadPath, err := chromedp.Run(tab, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}

	// The admin writes the team's template in Settings → Email templates:
	// italic text with a placeholder.
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/settings/templates")); err != nil {
		t.Fatal(err)
	}
	newTpl := byName("document", "button", "New template")
	step(t, tab, "the templates section", ``, `!!(`+newTpl+`) && document.body.textContent.includes('No templates yet.')`)
	if err := click(tab, newTpl); err != nil {
		t.Fatal(err)
	}
	name := byName("document", "input", "Name")
	step(t, tab, "the template form", ``, `document.activeElement === `+name)
	if err := chromedp.Do(tab, chromedp.KeyEvent("Shipping")); err != nil {
		t.Fatal(err)
	}
	tplEditor := `document.querySelector('.tpl-form .rich-editor')`
	step(t, tab, "into the text", tplEditor+`.focus()`, `document.activeElement === `+tplEditor)
	if err := chromedp.Do(tab, chromedp.KeyEvent("Your parcel left today. ")); err != nil {
		t.Fatal(err)
	}
	if err := click(tab, byName("document", "button", "Italic")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "insert a placeholder", `(() => { const s = document.querySelector('.tpl-form select');
		s.value = 'agent.firstName'; s.dispatchEvent(new Event('change')); })()`,
		tplEditor+`.textContent.includes('{{agent.firstName}}')`)
	actScreenshot(tab, "console-template-editor.png")
	if err := click(tab, byName("document", "button", "Save template")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "saved and listed", ``, `!document.querySelector('.tpl-form') && [...document.querySelectorAll('.tpl-row .group-name')].some(n => n.textContent === 'Shipping')`)
	st, body := actFetch(t, tab, "GET", "/api/v1/templates", "")
	var stored struct{ Results []struct{ Body string } }
	if err := json.Unmarshal([]byte(body), &stored); st != 200 || err != nil || len(stored.Results) != 1 ||
		stored.Results[0].Body != "Your parcel left today. <i>{{agent.firstName}}</i>" {
		t.Fatalf("stored template: %d %s", st, body)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(base+threadPath)); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "back in the thread", ``, `!!(`+byName("document", "button", "Email signature")+`) && !!document.querySelector('textarea.reply')`)
	// The agent's signature, set in Tools, from the keyboard: Enter on the
	// focused button (a mouse click at its coordinates can land on what a
	// late layout change moved there).
	if err := typeInto(tab, byName("document", "button", "Email signature"), "\r"); err != nil {
		t.Fatal(err)
	}
	sig := byName("document", "textarea", "Signature")
	step(t, tab, "signature dialog", ``, sig+` !== null && document.activeElement === `+sig)
	if err := chromedp.Do(tab, chromedp.KeyEvent("Ada from Support")); err != nil {
		t.Fatal(err)
	}
	if err := click(tab, byName("document", "button", "Save signature")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "signature saved", ``, `document.querySelector('dialog [role=status]').textContent === 'Signature saved.'`)
	if err := chromedp.Do(tab, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "dialog closed", ``, `!document.querySelector('dialog')`)
	format := byName("document", "button", "Format")
	step(t, tab, "Format offered on an email reply", ``, format+` !== null`)
	if err := click(tab, format); err != nil {
		t.Fatal(err)
	}
	editor := `document.querySelector('.rich-editor')`
	step(t, tab, "the editor", ``, `!`+editor+`.hidden && document.activeElement === `+editor+` && `+format+`.getAttribute('aria-pressed') === 'true'`)
	if err := chromedp.Do(tab, chromedp.KeyEvent("Hello ")); err != nil {
		t.Fatal(err)
	}
	if err := click(tab, byName("document", "button", "Bold")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.KeyEvent("world")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "bold", ``, `!!`+editor+`.querySelector('b') && `+editor+`.querySelector('b').textContent === 'world'`)
	// The template, chosen from its list, lands at the caret, filled in.
	step(t, tab, "templates listed", ``, `[...document.querySelectorAll('.rich-toolbar option')].some(o => o.textContent === 'Shipping')`)
	step(t, tab, "insert the template", `(() => { const s = document.querySelector('.rich-toolbar select');
		s.value = [...s.options].find(o => o.textContent === 'Shipping').value; s.dispatchEvent(new Event('change')); })()`,
		editor+`.textContent.includes('Your parcel left today.') && !!`+editor+`.querySelector('i') && `+editor+`.querySelector('i').textContent === 'Ada'`)
	// "#" and the keyboard insert a snippet in the editor too.
	if st, body := actFetch(t, tab, "POST", "/api/v1/snippets", `{"name":"Thanks","shortcut":"thanks","body":"Thanks for your patience."}`); st != 201 {
		t.Fatalf("snippet: %d %s", st, body)
	}
	if err := chromedp.Do(tab, chromedp.KeyEvent(" #tha")); err != nil {
		t.Fatal(err)
	}
	picker := `[...document.querySelectorAll('[role=listbox]')].find(l => !l.hidden)`
	step(t, tab, "the picker in the editor", ``, `!!(`+picker+`) && `+picker+`.querySelector('[role=option][aria-selected=true]').textContent.includes('#thanks') && `+editor+`.getAttribute('aria-activedescendant') === (`+picker+`).querySelector('[aria-selected=true]').id`)
	if err := pressEnter(tab); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "the snippet inserted", ``, editor+`.textContent.includes('Thanks for your patience.') && !`+editor+`.textContent.includes('#tha') && !(`+picker+`)`)

	// An image, chosen with "Image", lands in the text.
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "Image offered", ``, `!!(`+byName("document", "button", "Image")+`)`)
	step(t, tab, "choose an image", `(() => { const dt = new DataTransfer(); dt.items.add(`+jsFile("map.png", pngBuf.Bytes(), "image/png")+`);
		const input = document.querySelector('.rich-toolbar input[type=file]'); input.files = dt.files; input.dispatchEvent(new Event('change')); })()`,
		`[...`+editor+`.querySelectorAll('img')].some(i => i.alt === 'map.png' && i.complete && i.naturalWidth === 4)`)
	if err := click(tab, byName("document", "button", "Send")); err != nil {
		t.Fatal(err)
	}
	got := mp.Wait(t, 10*time.Second, "the rich reply", func(m *mailpit.Message) bool { return strings.Contains(m.Text, "Hello world") })
	if len(got.Inline) != 1 || got.Inline[0].FileName != "map.png" || !strings.Contains(got.HTML, `src="cid:`+got.Inline[0].ContentID+`"`) {
		t.Errorf("the image: inline=%+v html=%q", got.Inline, got.HTML)
	}
	if !strings.Contains(got.Text, "Thanks for your patience.") || !strings.Contains(got.HTML, "<b>world") || !strings.Contains(got.HTML, "<i>Ada") || !strings.Contains(got.HTML, "Your parcel left today.") ||
		!strings.Contains(got.Text, "Your parcel left today.") || !strings.Contains(got.Text, "> Where is my parcel?") ||
		!strings.Contains(got.Text, "-- \r\nAda from Support") || !strings.Contains(got.HTML, "Ada from Support") {
		t.Errorf("sent: text=%q html=%q", got.Text, got.HTML)
	}
	step(t, tab, "the thread shows the reply", ``, `document.querySelector('.messages').textContent.includes('Hello world')`)
}

// supportMail gives the Parley at base the address support@parley.test and
// returns a function that delivers raw mail to it through a.
func supportMail(t *testing.T, base string, a *app.App) func(raw string) {
	t.Helper()
	api := newMailAPI(t, base)
	var inboxes struct{ Results []map[string]any }
	api.do("GET", "/api/v1/inboxes", nil, &inboxes)
	if st, body := api.do("PATCH", "/api/v1/inboxes/"+inboxes.Results[0]["id"].(string), map[string]any{"emailAddresses": []string{"support@parley.test"}}, nil); st != 200 {
		t.Fatalf("set address: %d %s", st, body)
	}
	return func(raw string) {
		t.Helper()
		m, err := mail.Parse(strings.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		m.Recipients = []string{"support@parley.test"}
		if err := a.DeliverMail(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

// openThread signs the admin in to the console in a new browser context
// and opens the thread whose row shows subject.
func openThread(t *testing.T, browser context.Context, base, subject string) (context.Context, context.CancelFunc) {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	listSignIn(t, tab, base)
	if err := waitJS(tab, "!!"+actRow(subject), liveWait); err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := click(tab, actRow(subject)); err != nil {
		cancel()
		t.Fatal(err)
	}
	return tab, cancel
}
