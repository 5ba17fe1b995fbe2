package mail_test

import (
	"encoding/base64"
	"mime"
	"mime/quotedprintable"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/parley-chat/parley/mail"
)

func encode(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

// encodedWord is an RFC 2047 encoded word of b, in charset, with the
// encoding q or b.
func encodedWord(charset, enc string, b []byte) string {
	if enc == "b" {
		return "=?" + charset + "?B?" + base64.StdEncoding.EncodeToString(b) + "?="
	}
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == ' ':
			sb.WriteByte('_')
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			sb.WriteByte(c)
		default:
			sb.WriteString("=" + strings.ToUpper(string("0123456789abcdef"[c>>4])+string("0123456789abcdef"[c&15])))
		}
	}
	return "=?" + charset + "?Q?" + sb.String() + "?="
}

func bodyIn(t *testing.T, cte string, b []byte) string {
	t.Helper()
	switch cte {
	case "base64":
		s := base64.StdEncoding.EncodeToString(b)
		var lines []string
		for len(s) > 76 {
			lines, s = append(lines, s[:76]), s[76:]
		}
		return strings.Join(append(lines, s), "\r\n")
	case "quoted-printable":
		var sb strings.Builder
		w := quotedprintable.NewWriter(&sb)
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return sb.String()
	}
	return string(b)
}

// TestParseCharsets: subjects (encoded words, Q and B) and bodies (quoted-
// printable, base64, 8bit) in the charsets real mailers send are read as
// the text that was written.
func TestParseCharsets(t *testing.T) {
	tests := []struct {
		charset string
		enc     encoding.Encoding
		subject string
		text    string
		name    string
	}{
		{"windows-1252", charmap.Windows1252, "„Angebot“ für 5 € – jetzt", "Sehr geehrte Damen und Herren, der Preis beträgt 5 € … „danke“.", "Jürgen „Jo“ Müller"},
		{"ISO-8859-15", charmap.ISO8859_15, "Größe und Preis: 20 €", "Schöne Grüße aus Köln, der Preis ist 20 € (Œuvre, š, ž, Ÿ).", "Jürgen Müller"},
		{"iso-8859-2", charmap.ISO8859_2, "Zażółć gęślą jaźń", "Dzień dobry, proszę o fakturę. Děkuji, Łódź.", "Łukasz Żółć"},
		{"KOI8-R", charmap.KOI8R, "Здравствуйте, заказ", "Добрый день! Где мой заказ? Спасибо.", "Анна Петрова"},
		{"iso-8859-1", charmap.ISO8859_1, "Café à la carte", "Un café, s'il vous plaît. Ça coûte 3 ½ francs.", "François Bébé"},
		{"Shift_JIS", japanese.ShiftJIS, "ご注文について", "こんにちは、注文はどこですか。", "山田太郎"},
		{"GB2312", simplifiedchinese.GBK, "订单问题", "你好，我的订单在哪里？", "王小明"},
		{"ISO-2022-JP", japanese.ISO2022JP, "お問い合わせ", "いつもお世話になっております。", "鈴木花子"},
		{"EUC-KR", korean.EUCKR, "주문 문의", "안녕하세요, 주문이 아직 도착하지 않았습니다.", "김민수"},
		{"Big5", traditionalchinese.Big5, "訂單問題", "您好，我的訂單在哪裡？", "陳大文"},
		{"windows-1251", charmap.Windows1251, "Счёт", "Добрый вечер, счёт прилагаю.", "Анна Петрова"},
	}
	for _, tt := range tests {
		for _, cte := range []string{"quoted-printable", "base64", "8bit"} {
			for _, we := range []string{"q", "b"} {
				t.Run(tt.charset+"/"+cte+"/"+we, func(t *testing.T) {
					raw := "From: " + encodedWord(tt.charset, we, encode(t, tt.enc, tt.name)) + " <anna@customer.example>\r\n" +
						"Subject: " + encodedWord(tt.charset, we, encode(t, tt.enc, tt.subject)) + "\r\n" +
						"Message-ID: <cs@x>\r\nMIME-Version: 1.0\r\n" +
						"Content-Type: text/plain; charset=\"" + tt.charset + "\"\r\n" +
						"Content-Transfer-Encoding: " + cte + "\r\n\r\n" +
						bodyIn(t, cte, encode(t, tt.enc, tt.text)) + "\r\n"
					e, err := mail.Parse(strings.NewReader(raw))
					if err != nil {
						t.Fatal(err)
					}
					if e.Subject != tt.subject {
						t.Errorf("subject=%q, want %q", e.Subject, tt.subject)
					}
					if e.Text != tt.text {
						t.Errorf("text=%q, want %q", e.Text, tt.text)
					}
					if e.From.Name != tt.name {
						t.Errorf("name=%q, want %q", e.From.Name, tt.name)
					}
				})
			}
		}
	}
}

// TestParseHTMLCharset: an HTML-only body in a legacy charset is decoded
// before it becomes text.
func TestParseHTMLCharset(t *testing.T) {
	body := encode(t, charmap.ISO8859_15, "<p>Grüße, 20&nbsp;€</p><p>Ihr Team</p>")
	raw := "From: a@customer.example\r\nMessage-ID: <h@x>\r\nContent-Type: text/html; charset=iso-8859-15\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		bodyIn(t, "base64", body) + "\r\n"
	e, err := mail.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Grüße, 20 €\n\nIhr Team"; e.Text != want {
		t.Errorf("text=%q, want %q", e.Text, want)
	}
}

// TestParseRawHeaders: 8-bit headers without an encoded word declare no
// charset: UTF-8 is taken as it is, anything else is read as Windows-1252.
func TestParseRawHeaders(t *testing.T) {
	tests := []struct {
		name, subject, fromName string
		wantSubject, wantName   string
	}{
		{"Windows-1252", "\x84Gr\xfc\xdfe\x93 \x96 5 \x80", "J\xfcrgen M\xfcller", "„Grüße“ – 5 €", "Jürgen Müller"},
		{"UTF-8", "„Grüße“ – 5 €", "Jürgen Müller", "„Grüße“ – 5 €", "Jürgen Müller"},
		{"raw and encoded words", "Re: Gr\xfc\xdfe =?utf-8?q?und_K=C3=BCsse?=", "\"M\xfcller, J.\"", "Re: Grüße und Küsse", "Müller, J."},
		{"ISO-8859-1 encoded words as Windows-1252", "=?ISO-8859-1?Q?=93Caf=E9=94_=80?=", "=?iso-8859-1?q?=84Fran=E7ois=93?=", "“Café” €", "„François“"},
		{"ISO-8859-1 encoded words with a language", "=?iso-8859-1*fr?q?=80?=", "=?iso-8859-1*fr?q?Fran=E7ois?=", "€", "François"},
		{"8-bit US-ASCII encoded words", "=?us-ascii?q?Gr=FC=DFe?= =?US-ASCII?Q?Gr=C3=BC=C3=9Fe?=", "=?us-ascii?q?plain?=", "GrüßeGrüße", "plain"},
		{"undefined Windows-1252 bytes", "a\x81b\x8dc", "x\x90", "a\uFFFDb\uFFFDc", "x\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := "From: " + tt.fromName + " <a@customer.example>\r\nSubject: " + tt.subject + "\r\nMessage-ID: <r@x>\r\n\r\nhi\r\n"
			e, err := mail.Parse(strings.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if e.Subject != tt.wantSubject {
				t.Errorf("subject=%q, want %q", e.Subject, tt.wantSubject)
			}
			if e.From.Name != tt.wantName {
				t.Errorf("name=%q, want %q", e.From.Name, tt.wantName)
			}
		})
	}
}

// TestParseUnknownCharset: a charset that is unknown, unsupported, empty
// or hostile never loses the mail: UTF-8 stays UTF-8, other bytes are read
// as Windows-1252, and the result is valid UTF-8.
func TestParseUnknownCharset(t *testing.T) {
	tests := []struct {
		charset string
		body    string
		want    string
	}{
		{"x-unknown", "Grüße", "Grüße"},
		{"x-unknown", "Gr\xfc\xdfe \x80", "Grüße €"},
		{"", "Gr\xfc\xdfe", "Grüße"},
		{"us-ascii", "Gr\xfc\xdfe", "Grüße"},
		{"us-ascii", "Grüße", "Grüße"},
		{"utf-8", "ok \xff broken", "ok \uFFFD broken"},
		{"utf-7", "Hi Mom -+Jjo--! A+ImIDkQ. 1 +- 1 +AOQA9gD8- +2D3eAA- +ZeVnLIqe- +!!! +A\xff", "Hi Mom -☺-! A≢Α. 1 + 1 äöü 😀 日本語 +!!! \uFFFD"},
		{"UNICODE-1-1-UTF-7", "Gr+APwA3w-e", "Grüße"},
		{"replacement", "plain", "plain"},
		{"iso-2022-kr", "plain", "plain"},
		{"\"><script>", "plain \xe9", "plain é"},
		{strings.Repeat("x", 5000), "plain", "plain"},
		{"utf-8*en", "ok", "ok"},
	}
	for _, tt := range tests {
		t.Run(truncName(tt.charset), func(t *testing.T) {
			ct := "text/plain"
			if tt.charset != "" {
				ct = mime.FormatMediaType("text/plain", map[string]string{"charset": tt.charset})
				if ct == "" {
					ct = "text/plain; charset=" + tt.charset
				}
			}
			raw := "From: a@customer.example\r\nMessage-ID: <u@x>\r\nSubject: =?" + tt.charset + "?q?" + "S=FCbject?=\r\nContent-Type: " + ct + "\r\n\r\n" + tt.body + "\r\n"
			e, err := mail.Parse(strings.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if e.Text != tt.want {
				t.Errorf("text=%q, want %q", e.Text, tt.want)
			}
			if !utf8.ValidString(e.Subject) || e.Subject == "" {
				t.Errorf("subject %q", e.Subject)
			}
		})
	}
}

func truncName(s string) string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}
