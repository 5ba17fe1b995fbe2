package app

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"testing"
)

func encoded(t *testing.T, enc func(*bytes.Buffer, image.Image) error, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{200, 30, 30, 255})
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSniffFile(t *testing.T) {
	pngImg := encoded(t, func(b *bytes.Buffer, i image.Image) error { return png.Encode(b, i) }, 40, 30)
	jpegImg := encoded(t, func(b *bytes.Buffer, i image.Image) error { return jpeg.Encode(b, i, nil) }, 40, 30)
	gifImg := encoded(t, func(b *bytes.Buffer, i image.Image) error { return gif.Encode(b, i, nil) }, 40, 30)
	webpImg, err := os.ReadFile("testdata/tiny.webp") // 3×2, made by Chromium's encoder
	if err != nil {
		t.Fatal(err)
	}
	// A PNG whose header claims 100,000 × 100,000 pixels.
	bomb := bytes.Clone(pngImg)
	binary.BigEndian.PutUint32(bomb[16:], 100000)
	binary.BigEndian.PutUint32(bomb[20:], 100000)
	// A PNG signature followed by HTML.
	fakePNG := append([]byte("\x89PNG\r\n\x1a\n"), "<html><script>alert(1)</script>"...)

	for _, tt := range []struct {
		name   string
		data   []byte
		typ    string
		inline bool
		w, h   int
	}{
		{"png", pngImg, "image/png", true, 40, 30},
		{"jpeg", jpegImg, "image/jpeg", true, 40, 30},
		{"gif", gifImg, "image/gif", true, 40, 30},
		{"webp", webpImg, "image/webp", true, 3, 2},
		{"svg with script", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "text/plain", false, 0, 0},
		{"html", []byte("<!DOCTYPE html><html><script>alert(document.cookie)</script>"), "text/html", false, 0, 0},
		{"pdf", []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"), "application/pdf", false, 0, 0},
		{"text", []byte("just some notes\n"), "text/plain", false, 0, 0},
		{"empty", nil, "text/plain", false, 0, 0},
		{"unknown binary", []byte{0, 1, 2, 3, 0xfe, 0xff}, "application/octet-stream", false, 0, 0},
		{"pixel bomb", bomb, "image/png", false, 0, 0},
		{"png signature then html", fakePNG, "image/png", false, 0, 0},
		{"truncated jpeg", jpegImg[:4], "image/jpeg", false, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k := sniffFile(tt.data)
			if k.Type != tt.typ || k.Inline != tt.inline || k.Width != tt.w || k.Height != tt.h {
				t.Errorf("sniffFile=%+v, want {Type:%s Inline:%v Width:%d Height:%d}", k, tt.typ, tt.inline, tt.w, tt.h)
			}
		})
	}
}
