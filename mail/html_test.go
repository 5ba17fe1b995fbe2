package mail_test

import (
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/mail"
)

// htmlText parses a mail whose only part is the HTML h and returns its text.
func htmlText(t *testing.T, h string) string {
	t.Helper()
	raw := "From: a@customer.example\r\nMessage-ID: <h@x>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + h + "\r\n"
	e, err := mail.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return e.Text
}

// TestParseHTML: HTML-only mail becomes readable text.
func TestParseHTML(t *testing.T) {
	tests := []struct{ name, html, want string }{
		{"paragraphs and breaks", "<h1>Order</h1><p>Hello,<br>my order<br/>is late.</p><div>Ann</div><div>Lee</div>",
			"Order\n\nHello,\nmy order\nis late.\n\nAnn\nLee"},
		{"white space collapses", "<p>  one\n\t two  </p>\n\n<p>three</p>", "one two\n\nthree"},
		{"inline elements keep words together", "<p>a<b>bold</b>word and <i>it</i>, <span>x</span></p>", "aboldword and it, x"},
		{"lists", "<p>Items:</p><ul><li>one</li><li>two<ul><li>two a</li></ul></li></ul><ol start=3><li>three</li><li>four</li></ol>",
			"Items:\n\n- one\n- two\n  - two a\n\n3. three\n4. four"},
		{"table", "<table><tr><td>Item</td><td>Price</td></tr><tr><td>Tea</td><td>3 €</td></tr></table>", "Item Price\nTea 3 €"},
		{"pre keeps lines", "<p>Log:</p><pre>line  1\n  line 2</pre><p>end</p>", "Log:\n\nline  1\n  line 2\n\nend"},
		{"entities", "<p>&lt;b&gt; &amp; &eacute;t&eacute; &#8364;&#x1F600; &nbsp;x&bogus; &amp;amp;</p>", "<b> & été €😀 x&bogus; &amp;"},
		{"script, style, head and comments dropped", "<html><head><title>T</title><meta charset=utf-8><style>p{color:red}</style></head>" +
			"<body><script>alert('<p>x</p>')</script><!-- secret --><p>visible</p><style>.a{}</style><noscript>no script</noscript></body></html>", "visible\n\nno script"},
		{"link target kept", `<p>See <a href="https://shop.example/orders/42?a=1&amp;b=2">your order</a>.</p>`, "See your order <https://shop.example/orders/42?a=1&b=2>."},
		{"link whose text is its target", `<a href="https://shop.example/">https://shop.example</a>`, "https://shop.example"},
		{"mailto", `Write to <a href="mailto:help@shop.example">help@shop.example</a> or <a href="MAILTO:sales@shop.example">sales</a>`,
			"Write to help@shop.example or sales <MAILTO:sales@shop.example>"},
		{"image link", `<a href="https://shop.example/x"><img src="logo.png"></a>`, "https://shop.example/x"},
		{"image alt", `<p><img alt="Logo" src="x.png"> Shop</p>`, "Logo Shop"},
		{"javascript link dropped", `<a href="javascript:alert(1)">click</a> <a href=" JaVaScRiPt:alert(1)">me</a> <a href="&#106;avascript:x">too</a>`, "click me too"},
		{"other schemes dropped", `<a href="data:text/html,<script>x</script>">a</a> <a href="vbscript:x">b</a> <a href="ftp://x.example">c</a> <a href="/relative">d</a> <a href="http://">e</a>`, "a b c d e"},
		{"target with a line break dropped", "<a href=\"https://x.example/\na\">text</a>", "text"},
		{"unclosed tags", `<p>one<p>two<div>three<b><i>four<a href="https://x.example/">five`, "one\n\ntwo\nthreefourfive <https://x.example/>"},
		{"unclosed script drops the rest", "<p>before</p><script>alert(1)", "before"},
		{"unclosed comment", "<p>before</p><!-- never closed <p>after</p>", "before"},
		{"stray angle brackets", "<p>1 < 2 > 0 and a<b</p>", "1 < 2 > 0 and a"},
		{"self-closing script", "<script/>alert(1)</script><p>ok</p>", "ok"},
		{"body without a body tag", "<head><title>x</title><p>text", "text"},
		{"not HTML at all", "just some text", "just some text"},
		{"NUL and controls", "<p>a\x00b\x01c</p>", "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlText(t, tt.html); got != tt.want {
				t.Errorf("text=%q, want %q", got, tt.want)
			}
		})
	}
}

// TestParseHostileHTML: deeply nested, huge or endless HTML is read in
// bounded time into bounded text.
func TestParseHostileHTML(t *testing.T) {
	tests := []struct {
		name, html string
		check      func(string) bool
	}{
		{"deep divs", strings.Repeat("<div>", 200000) + "deep" + strings.Repeat("</div>", 200000),
			func(s string) bool { return s == "deep" }},
		{"deep lists", strings.Repeat("<ul><li>x", 50000),
			func(s string) bool {
				return strings.HasPrefix(s, "- x\n  - x") && !strings.Contains(s, strings.Repeat(" ", 20))
			}},
		{"deep unclosed anchors", strings.Repeat(`<a href="https://x.example/">`, 50000) + "end",
			func(s string) bool { return strings.HasSuffix(s, "end <https://x.example/>") }},
		{"many breaks", strings.Repeat("<br>", 500000) + "end", func(s string) bool { return s == "end" }},
		{"huge text", "<p>" + strings.Repeat("word ", parley.MaxTextBytes) + "</p>",
			func(s string) bool { return len(s) <= parley.MaxTextBytes && strings.HasSuffix(s, "[…]") }},
		{"many links", strings.Repeat(`<a href="https://x.example/`+strings.Repeat("y", 1900)+`">a</a>`, 2000),
			func(s string) bool { return len(s) <= parley.MaxTextBytes }},
		{"many attributes", "<p " + strings.Repeat(`a="b" `, 100000) + ">text</p>", func(s string) bool { return s == "text" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := htmlText(t, tt.html)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
			if !tt.check(got) {
				t.Errorf("text of %d bytes: %q…", len(got), got[:min(len(got), 200)])
			}
			if got != "" {
				if err := parley.ValidateText(got); err != nil {
					t.Errorf("ValidateText: %v", err)
				}
			}
		})
	}
}
