package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/store"
)

// Browser tests of what a new team meets on its first day: the Filtered
// view, invitations and inboxes, the assignee picker, the default widget's
// audience, presence, notification toasts, bot errors and used links.

// dayoneSignIn signs email in to the console in tab and waits for the list
// to settle: its rows, or the note that says why there are none.
func dayoneSignIn(t *testing.T, tab context.Context, base, email string) {
	t.Helper()
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, byName("document", "input", "Email")+" !== null", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(tab, byName("document", "input", "Email"), email); err != nil {
		t.Fatal(err)
	}
	if err := typeInto(tab, byName("document", "input", "Password"), actPassword); err != nil {
		t.Fatal(err)
	}
	if err := click(tab, byName("document", "button", "Sign in")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, `!!document.querySelector('.thread-list, .list-note') && !(document.querySelector('.list-note') || {textContent: ''}).textContent.includes('Loading') && [...document.querySelectorAll('.nav-item .count')].length > 0`, 10*time.Second); err != nil {
		t.Fatalf("sign in as %s: %v", email, err)
	}
}

// dayoneVisitor is actVisitor for a visitor of their own: a browser
// context with its own cookies, so that each is a new contact.
func dayoneVisitor(t *testing.T, browser context.Context, hostURL, text string) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(tab, chromedp.Navigate(hostURL+"/pricing#hs-chat-open")); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(tab, byName(widgetRoot, "textarea", "Message")+" !== null", 10*time.Second); err != nil {
		t.Fatalf("the chat did not open: %v", err)
	}
	actVisitorSay(t, tab, text)
	return tab
}

// dayoneEval evaluates a JS expression in tab, awaiting it if it is a
// promise.
func dayoneEval[T any](t *testing.T, tab context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// viewCount is a JS expression for the sidebar's count of view.
func viewCount(view string) string {
	return fmt.Sprintf(`Number((document.querySelector('.nav-item[data-view=%q] .count') || {}).textContent)`, view)
}

// TestBrowserDayOneFilteredRoleSender: mail from role addresses (noreply@,
// marketing@) is in the Filtered view, whose count matches its list, and
// not in All; a customer's mail is in All and not in Filtered. A role
// sender's mail arriving while Filtered is open joins it live.
func TestBrowserDayOneFilteredRoleSender(t *testing.T) {
	smtpIn := freePort(t)
	base := startInProcessWith(t, map[string]string{"PARLEY_SMTP_LISTEN": smtpIn})
	api := newMailAPI(t, base)
	if st, body := api.do("PATCH", "/api/v1/inboxes/1", map[string]any{"emailAddresses": []string{"support@parley.test"}}, nil); st != 200 {
		t.Fatalf("set the inbox's address: %d %s", st, body)
	}
	mailFrom := func(from, subject string) {
		t.Helper()
		raw := "From: " + from + "\nTo: support@parley.test\nSubject: " + subject + "\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@x.example>\n\nHello.\n"
		if err := sendSMTP(smtpIn, from, "support@parley.test", raw); err != nil {
			t.Fatalf("send %s: %v", subject, err)
		}
	}
	mailFrom("noreply@shop.example", "Your order shipped")
	mailFrom("marketing@news.example", "Spring sale")
	mailFrom("ann@customer.example", "Broken parcel")
	// The API files them as the console must show them.
	var page struct{ Results []map[string]any }
	deadline := time.Now().Add(10 * time.Second)
	for len(page.Results) < 2 && time.Now().Before(deadline) {
		api.do("GET", "/conversations/v3/conversations/threads?view=filtered", nil, &page)
		time.Sleep(50 * time.Millisecond)
	}
	if len(page.Results) != 2 {
		t.Fatalf("the API's Filtered view holds %d threads, want the 2 from role addresses", len(page.Results))
	}
	for _, th := range page.Results {
		if th["roleSender"] != true || th["filtered"] != true {
			t.Errorf("thread %v: want roleSender and filtered", th)
		}
	}

	browser := newBrowser(t)
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	dayoneSignIn(t, tab, base, "admin@example.com")
	step(t, tab, "All has the customer's mail only", ``, actRow("Broken parcel")+` && !`+actRow("Your order shipped")+` && !`+actRow("Spring sale"))
	step(t, tab, "Filtered lists both role senders, as many as it counts",
		`document.querySelector('.nav-item[data-view=filtered]').click()`,
		actRow("Your order shipped")+` && `+actRow("Spring sale")+` && !`+actRow("Broken parcel")+
			` && document.querySelectorAll('a.thread-row').length === 2 && `+viewCount("filtered")+` === 2`)
	mailFrom("no-reply@bank.example", "Statement ready")
	step(t, tab, "a role sender's new mail joins Filtered live", ``,
		actRow("Statement ready")+` && document.querySelectorAll('a.thread-row').length === 3 && `+viewCount("filtered")+` === 3`)
	step(t, tab, "All still counts and lists only the customer",
		`document.querySelector('.nav-item[data-view=all]').click()`,
		actRow("Broken parcel")+` && document.querySelectorAll('a.thread-row').length === 1 && `+viewCount("all")+` === 1`)
}

// TestBrowserDayOneTeam: the invite form starts with the admin's inbox
// checked, so that a teammate invited with it sees its conversations; one
// invited into no inbox is told why the console is empty and what to do,
// and the empty state leaves once an admin adds them. The assignee picker
// offers only members of the thread's inbox. Settings → Users shows the
// admin's own presence as the top bar does, away mode included.
func TestBrowserDayOneTeam(t *testing.T) {
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")
	browser := newBrowser(t)
	actVisitor(t, browser, host.URL, "Do you ship to Norway?")

	admin, cancel := chromedp.NewContext(browser)
	defer cancel()
	dayoneSignIn(t, admin, base, "admin@example.com")
	if err := chromedp.Do(admin, chromedp.Navigate(base+"/settings/users")); err != nil {
		t.Fatal(err)
	}
	inboxBox := `document.querySelector('input[type=checkbox][data-fk^="invite-inbox"]')`
	step(t, admin, "the invite form has the admin's inbox checked", ``, inboxBox+` && `+inboxBox+`.checked`)

	// Presence: one truth for the top bar and Settings → Users.
	myChip := `[...document.querySelectorAll('.settings-table tr')].find(r => r.textContent.includes('admin@example.com')).querySelector('.user-state')`
	step(t, admin, "Users shows the admin Online, as the top bar", ``,
		myChip+`.textContent === 'Online' && document.querySelector('.me').className.includes('state-online')`)
	step(t, admin, "away mode shows in both", `document.querySelector('.topbar input[role=switch]').click()`,
		myChip+`.textContent === 'Away' && document.querySelector('.me').className.includes('state-away')`)

	// Invite Bea with the form as it starts (the admin's inbox checked).
	if err := typeInto(admin, `document.querySelector('[data-fk="invite-email"]')`, "bea@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := click(admin, `document.querySelector('[data-fk="invite-submit"]')`); err != nil {
		t.Fatal(err)
	}
	step(t, admin, "the invitation is made", ``, `!!document.querySelector('[data-fk="invite-url"]') && document.querySelector('[data-fk="invite-url"]').value.includes('token=')`)
	beaLink := dayoneEval[string](t, admin, `document.querySelector('[data-fk="invite-url"]').value`)
	// Cleo is invited into no inbox (the API allows it: inboxes can come later).
	status, inv := actFetch(t, admin, "POST", "/api/v1/invites", `{"email":"cleo@example.com","inboxIds":[]}`)
	if status != 201 {
		t.Fatalf("invite Cleo: %d %s", status, inv)
	}
	cleoLink := jsonField(t, inv, "url")

	accept := func(link, name string) context.Context {
		t.Helper()
		tab, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		if err := chromedp.Do(tab, chromedp.Navigate(link)); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(tab, byName("document", "input", "Name")+` !== null`, 10*time.Second); err != nil {
			t.Fatalf("the invitation page: %v", err)
		}
		if err := typeInto(tab, byName("document", "input", "Name"), name); err != nil {
			t.Fatal(err)
		}
		if err := typeInto(tab, byName("document", "input", "Password"), actPassword); err != nil {
			t.Fatal(err)
		}
		if err := click(tab, `document.querySelector('#invite button[type=submit]')`); err != nil {
			t.Fatal(err)
		}
		if err := waitJS(tab, `!!document.querySelector('.nav-item .count')`, 10*time.Second); err != nil {
			t.Fatalf("%s's console: %v", name, err)
		}
		return tab
	}
	bea := accept(beaLink, "Bea")
	step(t, bea, "Bea sees the inbox's conversation", ``, actRow("Do you ship to Norway?")+` !== undefined`)
	// The used link says so when it opens, with what to do, and no form.
	if err := chromedp.Do(bea, chromedp.Navigate(beaLink)); err != nil {
		t.Fatal(err)
	}
	step(t, bea, "the used invitation link says it was used", ``,
		`document.querySelector('h1').textContent === 'This invitation is not valid' && document.body.textContent.includes('Ask an admin of your team for a new link') && !document.querySelector('form')`)

	cleo := accept(cleoLink, "Cleo")
	step(t, cleo, "Cleo is told why her console is empty and what to do", ``,
		`document.querySelector('.list-note').textContent.includes('You are not a member of any inbox yet.') && document.querySelector('.list-note').textContent.includes('Ask an admin to add you')`)

	// The admin opens the chat: the picker offers the inbox's members only.
	if err := chromedp.Do(admin, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	step(t, admin, "open the chat", ``, actRow("Do you ship to Norway?")+` !== undefined`)
	if err := click(admin, actRow("Do you ship to Norway?")); err != nil {
		t.Fatal(err)
	}
	picker := `document.querySelector('.conv-head select[id^="assignee-"], select[id^="assignee-"]')`
	options := picker + `.options`
	if err := waitJS(admin, picker+` && [...`+options+`].some(o => o.text.startsWith('Bea')) && ![...`+options+`].some(o => o.text.startsWith('Cleo'))`, liveWait); err != nil {
		t.Fatalf("the picker offers %s; want Bea and not Cleo", dayoneEval[string](t, admin, `[...`+options+`].map(o => o.text).join(', ')`))
	}
	cleoID := dayoneEval[string](t, admin, `(async () => (await (await fetch('/api/v1/users')).json()).results.find(u => u.email === 'cleo@example.com').id)()`)
	if status, body := actFetch(t, admin, "PATCH", "/api/v1/inboxes/1", `{"memberIds":["1",`+jsString(cleoID)+`,`+jsString(dayoneEval[string](t, admin, `(async () => (await (await fetch('/api/v1/users')).json()).results.find(u => u.email === 'bea@example.com').id)()`))+`]}`); status != 200 {
		t.Fatalf("add Cleo to the inbox: %d %s", status, body)
	}
	step(t, admin, "once a member, Cleo is offered", ``, `[...`+options+`].some(o => o.text.startsWith('Cleo'))`)
	step(t, cleo, "Cleo's console leaves the empty state and shows the chat", ``,
		`!document.querySelector('.list-note').textContent.includes('not a member') && `+actRow("Do you ship to Norway?")+` !== undefined`)
}

// TestBrowserDayOneWidgetAudience: the default widget and a widget stored
// without an audience (as before audiences had a default) show "Everyone"
// selected in the editor, and the API says "everyone" for both.
func TestBrowserDayOneWidgetAudience(t *testing.T) {
	dir := t.TempDir()
	db, err := store.Open(dir, &store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := &parley.Inbox{Name: "Support", MemberIDs: []uint64{}}
	if err := db.CreateInbox(ctx, in); err != nil {
		t.Fatal(err)
	}
	def := parley.DefaultWidget(in.ID)
	old := parley.DefaultWidget(in.ID)
	old.Name, old.Audience = "Older widget", parley.Audience{}
	for _, w := range []*parley.Widget{def, old} {
		if err := db.CreateWidget(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if got := def.Audience.Mode; got != parley.AudienceEveryone {
		t.Errorf("DefaultWidget's audience %q, want %q", got, parley.AudienceEveryone)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	base := startInProcessWith(t, map[string]string{"PARLEY_DATA": dir})
	api := newMailAPI(t, base)
	for _, w := range []*parley.Widget{def, old} {
		var got struct{ Audience struct{ Mode string } }
		if st, body := api.do("GET", fmt.Sprintf("/api/v1/widgets/%d", w.ID), nil, &got); st != 200 || got.Audience.Mode != "everyone" {
			t.Errorf("widget %q: %d audience %q, want everyone: %s", w.Name, st, got.Audience.Mode, body)
		}
	}
	browser := newBrowser(t)
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	dayoneSignIn(t, tab, base, "admin@example.com")
	for _, w := range []*parley.Widget{def, old} {
		if err := chromedp.Do(tab, chromedp.Navigate(fmt.Sprintf("%s/settings/chat/%d", base, w.ID))); err != nil {
			t.Fatal(err)
		}
		checked := `document.querySelector('fieldset[data-field="audience.mode"] input[type=radio]:checked')`
		step(t, tab, w.Name+": Everyone is selected", ``, checked+` && `+checked+`.value === 'everyone' && `+checked+`.labels[0].textContent.includes('Everyone')`)
	}
}

// TestBrowserDayOneToast: a new chat raises one toast, in the bottom right
// corner over no control of the console, naming the conversation as its
// list row does (also once the contact gets their email); it stays while
// hovered, has a close button, and goes by itself after a few seconds. The
// toasts' region is polite to screen readers.
func TestBrowserDayOneToast(t *testing.T) {
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")
	browser := newBrowser(t)
	agent, cancel := chromedp.NewContext(browser)
	defer cancel()
	dayoneSignIn(t, agent, base, "admin@example.com")
	dayoneVisitor(t, browser, host.URL, "Is the blue one in stock?")

	toasts := `[...document.querySelectorAll('.notify-toast')]`
	step(t, agent, "one toast for the new chat", ``, toasts+`.length === 1 && `+toasts+`[0].textContent.includes('New chat from')`)
	time.Sleep(time.Second) // routing assigns the chat: no second toast
	if n := dayoneEval[int](t, agent, toasts+`.length`); n != 1 {
		t.Fatalf("%d toasts for one new chat, want 1: %s", n, dayoneEval[string](t, agent, toasts+`.map(e => e.textContent).join(' | ')`))
	}
	rowName := actRow("Is the blue one in stock?") + `.querySelector('.row-name').textContent`
	step(t, agent, "the toast names the chat as the list does", ``, toasts+`[0].querySelector('strong').textContent === 'New chat from ' + `+rowName)

	// Held while hovered (from here on, past its time).
	hover := toasts + `[0].getBoundingClientRect()`
	xy := dayoneEval[[]float64](t, agent, `[`+hover+`.x + 5, `+hover+`.y + 5]`)
	if err := chromedp.Do(agent, chromedp.MouseEvent("mouseMoved", xy[0], xy[1])); err != nil {
		t.Fatal(err)
	}
	// The contact gets their email: list and toast both name them by it.
	contact := dayoneEval[string](t, agent, `(async () => (await (await fetch('/conversations/v3/conversations/threads')).json()).results[0].associatedContactId)()`)
	if status, body := actFetch(t, agent, "PATCH", "/api/v1/contacts/"+contact, `{"email":"kim@customer.example"}`); status != 200 {
		t.Fatalf("set the contact's email: %d %s", status, body)
	}
	if err := waitJS(agent, rowName+` === 'kim@customer.example' && `+toasts+`[0].querySelector('strong').textContent === 'New chat from kim@customer.example'`, liveWait); err != nil {
		t.Fatalf("the row names %q, the toasts say %q; want both kim@customer.example", dayoneEval[string](t, agent, rowName), dayoneEval[string](t, agent, toasts+`.map(e => e.textContent).join(' | ')`))
	}
	// Where it sits: the bottom right corner, over no control.
	toastCoversNothing(t, agent, "with no conversation open")
	if live := dayoneEval[string](t, agent, `document.querySelector('.notify-region').getAttribute('aria-live')`); live != "polite" {
		t.Errorf("the toasts' region is aria-live=%q, want polite", live)
	}
	if dayoneEval[bool](t, agent, toasts+`[0].querySelector('.notify-close') === null`) {
		t.Fatal("the toast has no close button")
	}

	// Still there well past its time while hovered.
	time.Sleep(7 * time.Second)
	if n := dayoneEval[int](t, agent, toasts+`.length`); n != 1 {
		t.Fatalf("the hovered toast went away (%d toasts)", n)
	}
	// Let go: it goes by itself within a few seconds.
	if err := chromedp.Do(agent, chromedp.MouseEvent("mouseMoved", 5, 5)); err != nil {
		t.Fatal(err)
	}
	if err := waitJS(agent, toasts+`.length === 0`, 10*time.Second); err != nil {
		t.Fatalf("the toast did not go by itself: %v", err)
	}

	// Another chat, while the first is open: its toast stays clear of the
	// reply box too, and its close button closes it at once.
	if err := click(agent, actRow("Is the blue one in stock?")); err != nil {
		t.Fatal(err)
	}
	step(t, agent, "the first chat is open", ``, `!!document.querySelector('.composer') && document.querySelector('.composer').offsetParent !== null`)
	dayoneVisitor(t, browser, host.URL, "Second question")
	step(t, agent, "a second chat's toast", ``, toasts+`.length === 1`)
	toastCoversNothing(t, agent, "with a conversation open")
	if err := click(agent, toasts+`[0].querySelector('.notify-close')`); err != nil {
		t.Fatal(err)
	}
	step(t, agent, "closed", ``, toasts+`.length === 0`)
}

// toastCoversNothing fails t unless the notification toasts sit in a
// bottom right corner (of the window, or of the open conversation's
// messages, above its reply box) and over none of tab's controls.
func toastCoversNothing(t *testing.T, tab context.Context, when string) {
	t.Helper()
	covered := dayoneEval[string](t, tab, `(() => {
  const region = document.querySelector('.notify-region');
  const r = region.getBoundingClientRect();
  const box = document.querySelector('.composer');
  const c = box && box.offsetParent ? box.getBoundingClientRect() : {top: innerHeight, right: innerWidth};
  if (r.height === 0 || r.right < c.right - 40 || r.bottom > c.top || r.bottom < c.top - 60) return 'is not in the bottom right corner: ' + JSON.stringify(r);
  const hit = [...document.querySelectorAll('button, a[href], input, select, textarea, [tabindex], [contenteditable=true]')].filter(el => !region.contains(el) && el.offsetParent !== null).find(el => {
    const b = el.getBoundingClientRect();
    return b.width > 0 && b.height > 0 && b.left < r.right && b.right > r.left && b.top < r.bottom && b.bottom > r.top;
  });
  return hit ? 'covers ' + hit.outerHTML.slice(0, 160) : '';
})()`)
	if covered != "" {
		actScreenshot(tab, "dayone-toast.png")
		t.Errorf("%s, the toast %s", when, covered)
	}
}

// TestBrowserDayOneSetupLink: the first start's setup link opens the setup
// form; once used, and for a wrong token, the page says at once that the
// link no longer works and what to do, without a form.
func TestBrowserDayOneSetupLink(t *testing.T) {
	lines := serveLogs(t, map[string]string{"PARLEY_DATA": t.TempDir()})
	banner := waitLog(t, lines, firstRunSetupMessage)
	link, _ := banner["setupLink"].(string)
	base := strings.TrimSuffix(banner["url"].(string), "/")
	if !strings.HasPrefix(link, base+"/setup?token=") {
		t.Fatalf("setup link %q under %q", link, base)
	}
	browser := newBrowser(t)
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	invalid := `document.querySelector('h1').textContent === 'This setup link no longer works' && document.body.textContent.includes('Sign in with your admin account') && !document.querySelector('form')`
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/setup?token=setup_wrong")); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "a wrong token is refused when the page opens", ``, invalid)
	if err := chromedp.Do(tab, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "the link opens the form", ``, byName("document", "input", "Email")+` !== null`)
	for _, f := range []struct{ field, text string }{{"Name", "Ada"}, {"Email", "ada@example.com"}, {"Password", actPassword}} {
		if err := typeInto(tab, byName("document", "input", f.field), f.text); err != nil {
			t.Fatal(err)
		}
	}
	if err := click(tab, `document.querySelector('#setup button[type=submit]')`); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "the admin is made and signed in", ``, `!!document.querySelector('.nav-item .count')`)
	if err := chromedp.Do(tab, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	step(t, tab, "the used link says so when it opens", ``, invalid)
}

// TestBrowserDayOneBot: the bot editor's empty state is a hint, not an
// error; a save the server refuses shows a sentence next to the field in
// question (never the API's field path), which leaves once the field is
// edited. In the widget, the email capture waits while the bot asks its
// question and shows once the bot has handed off.
func TestBrowserDayOneBot(t *testing.T) {
	base := startInProcess(t)
	host := hostSite(t, base, "host.html")
	browser := newBrowser(t)
	admin, cancel := chromedp.NewContext(browser)
	defer cancel()
	dayoneSignIn(t, admin, base, "admin@example.com")
	if err := chromedp.Do(admin, chromedp.Navigate(base+"/settings/bots")); err != nil {
		t.Fatal(err)
	}
	step(t, admin, "the empty editor's preview hint is no error", ``,
		`!!document.querySelector('.bots-pv-log') && [...document.querySelectorAll('p')].some(p => p.textContent === 'Add a step to see the preview.' && !p.classList.contains('form-alert') && p.getAttribute('role') !== 'alert')`)
	if err := click(admin, byName("document", "button", "Add step")); err != nil {
		t.Fatal(err)
	}
	step(t, admin, "a message step", ``, `document.querySelectorAll('.bots-step').length === 1`)
	if _, err := chromedp.Run(admin, chromedp.Evaluate[bool](`document.querySelector('[data-fk="bots-enabled"]').click(), true`)); err != nil {
		t.Fatal(err)
	}
	if err := click(admin, byName("document", "button", "Save bot")); err != nil {
		t.Fatal(err)
	}
	text := `document.querySelector('.bots-step textarea')`
	step(t, admin, "the refusal is a sentence next to the step's text", ``,
		`!!document.querySelector('.field-error') && document.querySelector('.field-error').textContent === 'Step 1: fill in this field.' && `+
			text+`.nextElementSibling === document.querySelector('.field-error') && `+text+`.getAttribute('aria-invalid') === 'true' && document.activeElement === `+text+
			` && document.querySelector('.bots-message').textContent === 'The bot was not saved. Step 1: fill in this field.'`)
	if raw := dayoneEval[bool](t, admin, `document.body.textContent.includes('bot.steps') || document.body.textContent.includes('text is empty')`); raw {
		t.Errorf("the page shows the API's raw error: %s", dayoneEval[string](t, admin, `document.querySelector('.bots-editor').textContent`))
	}
	if err := typeInto(admin, text, "Hi! I'm the bot."); err != nil {
		t.Fatal(err)
	}
	step(t, admin, "editing the field takes the sentence away", ``, `!document.querySelector('.field-error') && !`+text+`.hasAttribute('aria-invalid')`)

	// The widget: no email capture beside the bot's question.
	widget := dayoneEval[string](t, admin, `(async () => (await (await fetch('/api/v1/widgets')).json()).results[0].id)()`)
	flow := `{"enabled":true,"steps":[
		{"id":"hi","kind":"message","text":"Hi! I'm the bot."},
		{"id":"need","kind":"question","text":"What do you need?","options":["Sales","Support"]},
		{"id":"off","kind":"handoff","to":"routing","text":"Connecting you with a teammate."}]}`
	if status, body := actFetch(t, admin, "PUT", "/api/v1/widgets/"+widget+"/bot", flow); status != 200 {
		t.Fatalf("PUT bot: %d %s", status, body)
	}
	visitor := dayoneVisitor(t, browser, host.URL, "Hello")
	form := widgetRoot + `.querySelector('.ef')`
	support := byName(widgetRoot, ".qr button", "Support")
	step(t, visitor, "the bot asks its question", ``, support+` !== null`)
	time.Sleep(500 * time.Millisecond) // time for a wrong email form to show
	if shown := dayoneEval[bool](t, visitor, form+` && !`+form+`.hidden`); shown {
		t.Fatal("the email capture shows while the bot asks its question")
	}
	if err := click(visitor, support); err != nil {
		t.Fatal(err)
	}
	step(t, visitor, "after the hand-off the email capture asks", ``,
		widgetRoot+`.querySelector('[role=log]').textContent.includes('Connecting you with a teammate.') && `+form+` && !`+form+`.hidden && `+byName(widgetRoot, "input", "Email")+` !== null`)
}
