package mail_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/mail"
)

// mime builds a multipart/mixed mail from parts (each its headers and body).
func mimeMail(parts ...string) string {
	var b strings.Builder
	b.WriteString("From: Ann <ann@customer.example>\r\nTo: support@parley.test\r\nSubject: Files\r\nMessage-ID: <f1@customer.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n")
	for _, p := range parts {
		b.WriteString("--XX\r\n" + p + "\r\n")
	}
	b.WriteString("--XX--\r\n")
	return b.String()
}

func b64(data []byte) string {
	s := base64.StdEncoding.EncodeToString(data)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return out.String() + s
}

func TestParseFiles(t *testing.T) {
	pdf := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	raw := mimeMail(
		"Content-Type: multipart/alternative; boundary=\"YY\"\r\n\r\n--YY\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n"+
			"--YY\r\nContent-Type: multipart/related; boundary=\"ZZ\"\r\n\r\n--ZZ\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <img src=\"cid:logo@x\"></p>\r\n"+
			"--ZZ\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n"+b64(png)+"\r\n--ZZ--\r\n--YY--",
		"Content-Type: application/pdf; name=\"=?utf-8?q?Rechnung_M=C3=A4rz.pdf?=\"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n"+b64(pdf),
		"Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename*=utf-8''notes%20%C3%A4.txt\r\n\r\nplain notes",
		"Content-Type: application/pgp-signature\r\n\r\n-----BEGIN PGP SIGNATURE-----",
	)
	e, err := mail.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if e.Text != "See attached." {
		t.Errorf("text=%q", e.Text)
	}
	want := []struct {
		name, cid string
		data      []byte
	}{
		{"file", "logo@x", png},
		{"Rechnung März.pdf", "", pdf},
		{"notes ä.txt", "", []byte("plain notes")},
	}
	if len(e.Files) != len(want) {
		t.Fatalf("files=%d, want %d: %+v", len(e.Files), len(want), e.Files)
	}
	for i, w := range want {
		f := e.Files[i]
		if f.Name != w.name || f.ContentID != w.cid || string(f.Data) != string(w.data) {
			t.Errorf("file %d=%q cid=%q %d bytes, want %q cid=%q %d bytes", i, f.Name, f.ContentID, len(f.Data), w.name, w.cid, len(w.data))
		}
	}
	if len(e.FilesLeftOut) != 0 {
		t.Errorf("left out: %v", e.FilesLeftOut)
	}
}

// TestParseOnlyAFile: a mail that is nothing but a screenshot keeps it,
// with an empty text.
func TestParseOnlyAFile(t *testing.T) {
	raw := "From: ann@customer.example\r\nSubject: shot\r\nMIME-Version: 1.0\r\nContent-Type: image/png; name=shot.png\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64([]byte("\x89PNGdata"))
	e, err := mail.Parse(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if e.Text != "" || len(e.Files) != 1 || e.Files[0].Name != "shot.png" {
		t.Errorf("text=%q files=%+v", e.Text, e.Files)
	}
}

// TestParseFileLimits: more files than a message carries, a file over the
// limit and files too large together are left out and named, never
// refusing the mail.
func TestParseFileLimits(t *testing.T) {
	var parts []string
	parts = append(parts, "Content-Type: text/plain\r\n\r\nMany files")
	for i := range parley.MaxMessageFiles + 2 {
		parts = append(parts, fmt.Sprintf("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=f%d.bin\r\n\r\nx", i))
	}
	e, err := mail.Parse(strings.NewReader(mimeMail(parts...)))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Files) != parley.MaxMessageFiles || len(e.FilesLeftOut) != 2 || !strings.Contains(e.FilesLeftOut[0], "f10.bin: more than 10 files") {
		t.Errorf("files=%d left out=%v", len(e.Files), e.FilesLeftOut)
	}

	big := strings.Repeat("A", 4*(parley.MaxFileBytes/3+1)) // base64 of a bit more than the limit
	e, err = mail.Parse(strings.NewReader(mimeMail("Content-Type: text/plain\r\n\r\nbig",
		"Content-Type: application/zip\r\nContent-Disposition: attachment; filename=big.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"+big)))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Files) != 0 || len(e.FilesLeftOut) != 1 || !strings.Contains(e.FilesLeftOut[0], "big.zip: larger than 15 MB") {
		t.Errorf("files=%d left out=%v", len(e.Files), e.FilesLeftOut)
	}

	ten := strings.Repeat("AAAA", (10<<20)/3)
	e, err = mail.Parse(strings.NewReader(mimeMail("Content-Type: text/plain\r\n\r\ntwo",
		"Content-Type: application/zip\r\nContent-Disposition: attachment; filename=a.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"+ten,
		"Content-Type: application/zip\r\nContent-Disposition: attachment; filename=b.zip\r\nContent-Transfer-Encoding: base64\r\n\r\n"+ten)))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Files) != 1 || len(e.FilesLeftOut) != 1 || !strings.Contains(e.FilesLeftOut[0], "b.zip: the files together") {
		t.Errorf("files=%d left out=%v", len(e.Files), e.FilesLeftOut)
	}
}

// TestParseBrokenFile: a file whose encoding is broken is left out and
// named; the mail and its other files are kept.
func TestParseBrokenFile(t *testing.T) {
	e, err := mail.Parse(strings.NewReader(mimeMail("Content-Type: text/plain\r\n\r\nhello",
		"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=bad.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64",
		"Content-Type: text/plain\r\nContent-Disposition: attachment; filename=ok.txt\r\n\r\nfine")))
	if err != nil {
		t.Fatal(err)
	}
	if e.Text != "hello" || len(e.Files) != 1 || e.Files[0].Name != "ok.txt" || len(e.FilesLeftOut) != 1 || !strings.Contains(e.FilesLeftOut[0], "bad.pdf") {
		t.Errorf("text=%q files=%+v left out=%v", e.Text, e.Files, e.FilesLeftOut)
	}
}
