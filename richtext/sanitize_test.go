package richtext_test

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/parley-chat/parley/richtext"
)

func TestSanitize(t *testing.T) {
	cids := map[string]string{"logo@x": "/files/7"}
	cid := func(id string) string { return cids[id] }
	for _, tt := range []struct {
		name    string
		in      string
		remote  bool
		want    []string // substrings of the result
		wantNot []string // substrings it must not have
		blocked int
	}{
		{name: "formatting kept", in: `<p><b>Hello</b> <i>there</i></p><ul><li>one</li></ul><blockquote>q</blockquote>`,
			want: []string{"<b>Hello</b>", "<i>there</i>", "<li>one</li>", "<blockquote>q</blockquote>"}},
		{name: "script", in: `<p>hi</p><script>alert(1)</script>`, want: []string{"<p>hi</p>"}, wantNot: []string{"script", "alert"}},
		{name: "event handler", in: `<p onclick="alert(1)">x</p><img src="x" onerror="alert(1)">`, wantNot: []string{"onclick", "onerror", "alert"}},
		{name: "javascript link", in: `<a href="javascript:alert(1)">x</a>`, wantNot: []string{"javascript"}},
		{name: "data html link", in: `<a href="data:text/html,<script>alert(1)</script>">x</a>`, wantNot: []string{"data:text/html", "<script"}},
		{name: "relative link into parley", in: `<a href="/api/v1/tokens">x</a><img src="/api/v1/users/me">`, wantNot: []string{"/api/v1"}},
		{name: "protocol-relative image", in: `<img src="//evil.example/t.gif">`, wantNot: []string{"evil"}}, // dropped as relative
		{name: "link opens safely", in: `<a href="https://example.org/a">a</a>`,
			want: []string{`href="https://example.org/a"`, `rel="nofollow noreferrer noopener"`, `target="_blank"`}},
		{name: "style sheet and iframe", in: `<style>body{background:url(https://t.example/x)}</style><iframe src="https://t.example"></iframe><p>k</p>`,
			want: []string{"<p>k</p>"}, wantNot: []string{"t.example", "iframe", "style>"}},
		{name: "style url", in: `<p style="background:url(https://t.example/x); color: red">x</p>`, wantNot: []string{"t.example", "url("}},
		{name: "style expression", in: `<p style="width: expression(alert(1))">x</p>`, wantNot: []string{"expression"}},
		{name: "harmless style", in: `<p style="color: #ff0000; font-weight: bold">x</p>`, want: []string{"color: #ff0000", "font-weight: bold"}},
		{name: "form and meta refresh", in: `<meta http-equiv="refresh" content="0;url=https://t.example"><form action="https://t.example"><input name="p"></form>`,
			wantNot: []string{"t.example", "form", "input", "meta"}},
		{name: "base href", in: `<base href="https://t.example/"><a href="x">x</a>`, wantNot: []string{"t.example", "base"}},
		{name: "svg with script", in: `<svg><script>alert(1)</script><image href="https://t.example/x"/></svg>`, wantNot: []string{"alert", "t.example", "svg"}},
		{name: "remote image blocked", in: `<img src="https://t.example/pixel.gif" alt="p"><img src="http://t.example/b.png">`,
			wantNot: []string{"t.example", "<img"}, blocked: 2},
		{name: "remote image allowed", in: `<img src="https://t.example/pixel.gif" alt="p">`, remote: true, want: []string{`src="https://t.example/pixel.gif"`}},
		{name: "srcset and background", in: `<img src="cid:logo@x" srcset="https://t.example/a.png 2x"><table background="https://t.example/b"><tr><td>x</td></tr></table>`,
			want: []string{`src="/files/7"`}, wantNot: []string{"t.example"}},
		{name: "cid image", in: `<img src="cid:logo@x" alt="Logo">`, want: []string{`src="/files/7"`, `alt="Logo"`}},
		{name: "cid in angle brackets, escaped", in: `<img src="cid:%3Clogo@x%3E">`, want: []string{`src="/files/7"`}},
		{name: "unknown cid", in: `<img src="cid:other@x">`, wantNot: []string{"<img"}},
		{name: "data png image", in: `<img src="data:image/png;base64,iVBORw0KGgo=">`, want: []string{`src="data:image/png;base64,iVBORw0KGgo="`}},
		{name: "data svg image", in: `<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">`, wantNot: []string{"svg", "<img"}},
		{name: "entities stay text", in: `<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`, want: []string{"&lt;script&gt;"}, wantNot: []string{"<script"}},
		{name: "unclosed tags", in: `<div><p><b>open`, want: []string{"<b>open"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := richtext.Sanitize(tt.in, tt.remote, cid)
			for _, w := range tt.want {
				if !strings.Contains(got.HTML, w) {
					t.Errorf("%q gave %q, which, want it to contain %q", tt.in, got.HTML, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(strings.ToLower(got.HTML), strings.ToLower(w)) {
					t.Errorf("%q gave %q, which, must not contain %q", tt.in, got.HTML, w)
				}
			}
			if got.Blocked != tt.blocked {
				t.Errorf("blocked=%d, want %d", got.Blocked, tt.blocked)
			}
		})
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{`<p onclick=x>a</p>`, `<img src="https://x/y">`, `<a href="javascript:x">`, `<svg><script>x</script>`, `<style>a{}</style>`, `<img src="data:image/png;base64,AA==">`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		checkSafe(t, in, richtext.Sanitize(in, false, nil).HTML, func(src string) bool { return strings.HasPrefix(src, "data:image/") })
		checkSafe(t, in, richtext.Clean(in), func(src string) bool {
			return strings.HasPrefix(src, "data:image/") || strings.HasPrefix(src, "http:") || strings.HasPrefix(src, "https:") ||
				strings.HasPrefix(src, "/files/") && !strings.Contains(src, "..")
		})
	})
}

// checkSafe fails t if got, what a function of this package made of in,
// keeps an element, attribute, link or image source that could act.
func checkSafe(t *testing.T, in, got string, srcOK func(string) bool) {
	t.Helper()
	banned := map[atom.Atom]bool{atom.Script: true, atom.Iframe: true, atom.Style: true, atom.Svg: true, atom.Form: true,
		atom.Object: true, atom.Embed: true, atom.Base: true, atom.Meta: true, atom.Link: true, atom.Input: true, atom.Math: true}
	{
		z := html.NewTokenizer(strings.NewReader(got))
		for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
			tok := z.Token()
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			if banned[tok.DataAtom] || tok.DataAtom == 0 {
				t.Fatalf("%q gave %q, which keeps element <%s>", in, got, tok.Data)
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(a.Key, "on"), a.Key == "srcset", a.Key == "background", a.Key == "formaction":
					t.Fatalf("%q gave %q, which keeps attribute %s", in, got, a.Key)
				case a.Key == "href" && !(strings.HasPrefix(v, "http:") || strings.HasPrefix(v, "https:") || strings.HasPrefix(v, "mailto:") || strings.HasPrefix(v, "cid:") || strings.HasPrefix(v, "data:image/")):
					t.Fatalf("%q gave %q, which keeps link %q", in, got, a.Val)
				case a.Key == "src" && !srcOK(v):
					t.Fatalf("%q gave %q, which keeps image source %q", in, got, a.Val)
				case a.Key == "style" && (strings.Contains(v, "url") || strings.Contains(v, "expression") || strings.Contains(v, "\\")):
					t.Fatalf("%q gave %q, which keeps style %q", in, got, a.Val)
				}
			}
		}
	}
}

func TestClean(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in      string
		want    []string
		wantNot []string
	}{
		{"formatting", `<p><strong>Hi</strong> <em>there</em></p><ol><li>a</li></ol><blockquote>q</blockquote>`,
			[]string{"<strong>Hi</strong>", "<em>there</em>", "<li>a</li>", "<blockquote>q</blockquote>"}, nil},
		{"own file image", `<img src="/files/12/logo.png?e=1&amp;s=x" alt="Logo">`, []string{`src="/files/12/logo.png?e=1&amp;s=x"`}, nil},
		{"web image", `<img src="https://example.org/logo.png">`, []string{`src="https://example.org/logo.png"`}, nil},
		{"parley api image", `<img src="/api/v1/users/me">`, nil, []string{"<img", "/api"}},
		{"traversal out of files", `<img src="/files/../api/v1/tokens">`, nil, []string{"<img", "/api"}},
		{"cid image", `<img src="cid:x@y">`, nil, []string{"<img"}},
		{"relative link", `<a href="/api/v1/tokens">click</a>`, []string{"click"}, []string{"/api", "<a"}},
		{"javascript link", `<a href="javascript:alert(1)">x</a>`, nil, []string{"javascript"}},
		{"web link", `<a href="https://example.org/">x</a>`, []string{`href="https://example.org/"`, `rel="nofollow noreferrer noopener"`}, nil},
		{"script", `<p>a</p><script>alert(1)</script><img src=x onerror=alert(1)>`, []string{"<p>a</p>"}, []string{"script", "alert", "onerror"}},
		{"placeholders stay text", `<p>Hi {{contact.firstName}},</p>`, []string{"{{contact.firstName}}"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := richtext.Clean(tt.in)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Clean(%q)=%q, want it to contain %q", tt.in, got, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(strings.ToLower(got), strings.ToLower(w)) {
					t.Errorf("Clean(%q)=%q, must not contain %q", tt.in, got, w)
				}
			}
			if again := richtext.Clean(got); again != got {
				t.Errorf("Clean is not stable: %q then %q", got, again)
			}
		})
	}
}

// TestKeepThenSanitize: what Keep stores shows as Sanitize shows the
// original: remote images blocked until allowed, cid: images mapped.
func TestKeepThenSanitize(t *testing.T) {
	in := `<p onclick="x()">Hi</p><img src="cid:logo@x"><img src="https://t.example/p.gif"><script>alert(1)</script>`
	kept := richtext.Keep(in)
	if strings.Contains(kept, "script") || strings.Contains(kept, "onclick") || !strings.Contains(kept, "cid:logo@x") || !strings.Contains(kept, "https://t.example/p.gif") {
		t.Fatalf("Keep=%q", kept)
	}
	cid := func(id string) string { return map[string]string{"logo@x": "/files/3/logo.png"}[id] }
	blocked := richtext.Sanitize(kept, false, cid)
	if blocked.Blocked != 1 || strings.Contains(blocked.HTML, "t.example") || !strings.Contains(blocked.HTML, `src="/files/3/logo.png"`) {
		t.Errorf("shown without remote images: %+v", blocked)
	}
	allowed := richtext.Sanitize(kept, true, cid)
	if allowed.Blocked != 0 || !strings.Contains(allowed.HTML, "https://t.example/p.gif") {
		t.Errorf("shown with remote images: %+v", allowed)
	}
}

// TestImages: each image's source is what decide says, or the image goes;
// links and the rest stay as Clean keeps them.
func TestImages(t *testing.T) {
	in := `<p>See <img src="/files/7/a.png" alt="a"> and <img src="https://example.com/b.png"> <a href="https://example.com">here</a><script>x()</script></p>`
	got := richtext.Images(in, func(src string) (string, bool) {
		if strings.HasPrefix(src, "/files/") {
			return "cid:file7@example.com", true
		}
		return "", false
	})
	want := `<p>See <img src="cid:file7@example.com" alt="a"> and  <a href="https://example.com" rel="nofollow noreferrer noopener" target="_blank">here</a></p>`
	if got != want {
		t.Errorf("Images=\n%s\nwant\n%s", got, want)
	}
}
