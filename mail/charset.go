package mail

import (
	"encoding/base64"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// charsetName is a charset parameter lower-cased, without quotes and
// without an RFC 2231 language (utf-8*en).
func charsetName(charset string) string {
	name := strings.ToLower(strings.Trim(charset, " \t\"'"))
	if i := strings.IndexByte(name, '*'); i >= 0 {
		name = name[:i]
	}
	return name
}

// charsetEncoding returns the decoder for a charset name (see
// charsetName), or nil for UTF-8, US-ASCII, no charset and any charset
// that golang.org/x/text does not know. Names are looked up as a web browser does (WHATWG labels, so
// that ISO-8859-1, often mislabelled, is read as its superset
// Windows-1252), then in the IANA registry.
func charsetEncoding(name string) encoding.Encoding {
	switch name {
	case "", "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us":
		return nil
	}
	if e, err := htmlindex.Get(name); err == nil && e != encoding.Replacement {
		return e
	}
	for _, idx := range []*ianaindex.Index{ianaindex.MIME, ianaindex.IANA} {
		if e, err := idx.Encoding(name); err == nil && e != nil && e != encoding.Replacement {
			return e
		}
	}
	return nil
}

// decodeCharset turns b, in charset, into valid UTF-8. Every charset that
// golang.org/x/text implements is decoded (see charsetEncoding). Text that
// declares UTF-8 has what is not valid replaced with U+FFFD. Text without
// a charset, in US-ASCII, or in a charset unknown or unsupported is read
// as mailers do: as UTF-8 if it is valid UTF-8, else as Windows-1252. A
// charset never makes the text fail.
func decodeCharset(b []byte, charset string) string {
	name := charsetName(charset)
	if e := charsetEncoding(name); e != nil {
		if out, err := e.NewDecoder().Bytes(b); err == nil {
			return strings.ToValidUTF8(string(out), "\uFFFD")
		}
		return utf8OrWindows1252(b)
	}
	switch name {
	case "utf-7", "unicode-1-1-utf-7", "csunicode11utf7":
		return decodeUTF7(b)
	case "utf-8", "utf8":
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return utf8OrWindows1252(b)
}

// decodeUTF7 reads b as UTF-7 (RFC 2152), which golang.org/x/text does
// not implement: ASCII, and after "+" the UTF-16 of other characters in
// base64, ended by "-" or any other character ("+-" is "+"). What is not
// valid becomes U+FFFD.
func decodeUTF7(b []byte) string {
	var sb strings.Builder
	for i := 0; i < len(b); {
		c := b[i]
		i++
		if c != '+' {
			if c >= 0x80 {
				sb.WriteRune(utf8.RuneError)
			} else {
				sb.WriteByte(c)
			}
			continue
		}
		j := i
		for j < len(b) && strings.IndexByte(base64Chars, b[j]) >= 0 {
			j++
		}
		if j == i {
			if j < len(b) && b[j] == '-' {
				j++
			}
			sb.WriteByte('+') // "+-", or a lone "+"
			i = j
			continue
		}
		enc := b[i:j]
		if len(enc)%4 == 1 {
			enc = enc[:len(enc)-1]
		}
		raw, err := base64.RawStdEncoding.DecodeString(string(enc))
		if err != nil {
			sb.WriteRune(utf8.RuneError)
		} else {
			units := make([]uint16, len(raw)/2)
			for k := range units {
				units[k] = uint16(raw[2*k])<<8 | uint16(raw[2*k+1])
			}
			sb.WriteString(string(utf16.Decode(units)))
		}
		if j < len(b) && b[j] == '-' {
			j++ // the "-" that ends base64 is absorbed
		}
		i = j
	}
	return sb.String()
}

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// utf8OrWindows1252 reads b as UTF-8 if it is valid, else as Windows-1252.
func utf8OrWindows1252(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(decodeCharset(b, charset)), nil
}}

// decodeHeader decodes a header value: raw 8-bit text, which declares no
// charset, is read as UTF-8 if valid, else as Windows-1252; then RFC 2047
// encoded words are decoded. A header whose encoded words do not decode is
// kept as it is.
func decodeHeader(s string) string {
	s = rawHeader(s)
	d, err := wordDecoder.DecodeHeader(renameWordCharsets(s))
	if err != nil {
		return s
	}
	return d
}

// wordCharsets are the charsets of encoded words that mime.WordDecoder
// decodes itself: ISO-8859-1 as Latin-1 proper, with C1 controls where
// mailers mean Windows-1252, and US-ASCII with U+FFFD for 8-bit bytes.
var wordCharsets = regexp.MustCompile(`(?i)=\?(iso-8859-1|us-ascii)([?*])`)

// renameWordCharsets gives those charsets names that go to the
// CharsetReader, so that encoded words are read as bodies are.
func renameWordCharsets(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	return wordCharsets.ReplaceAllStringFunc(s, func(m string) string {
		if strings.EqualFold(m[2:len(m)-1], "us-ascii") {
			return "=?ascii" + m[len(m)-1:]
		}
		return "=?latin1" + m[len(m)-1:]
	})
}

// rawHeader reads a header value with raw 8-bit bytes as UTF-8 if valid,
// else as Windows-1252.
func rawHeader(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return utf8OrWindows1252([]byte(s))
}
