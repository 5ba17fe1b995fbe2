package app

import (
	"bytes"
	"image"
	_ "image/gif"  // GIF for image.DecodeConfig
	_ "image/jpeg" // JPEG for image.DecodeConfig
	_ "image/png"  // PNG for image.DecodeConfig
	"net/http"
	"strings"

	_ "golang.org/x/image/webp" // WebP for image.DecodeConfig
)

// Files (attachments) are served from Parley's own origin, so what a file
// is must be decided from its bytes, never from the name or type its
// uploader claims: an "image" that is really HTML or SVG would run script
// in Parley's origin if it were served as what it claims.

// sniffHeadBytes is how much of a file sniffFile needs: what
// http.DetectContentType reads, and enough for an image's header.
const sniffHeadBytes = 64 << 10

// maxImagePixels bounds the images shown inline (thumbnails in widget and
// console): a small file can claim a huge canvas that a browser then
// allocates.
const maxImagePixels = 50_000_000

// inlineImageTypes are the image types shown inline. Not SVG: it is a
// document that can hold script.
var inlineImageTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
}

// fileKind is what Parley made of a file's bytes.
type fileKind struct {
	// Type is the media type the bytes are, without parameters, as far as
	// sniffing tells: "application/octet-stream" when unknown.
	Type string
	// Inline reports whether the file is an image of a type in
	// inlineImageTypes whose header decodes and whose size is within
	// maxImagePixels: only these are shown in the page rather than
	// downloaded.
	Inline bool
	// Width and Height are an inline image's size in pixels.
	Width, Height int
}

// sniffFile decides what a file is from its first bytes (up to
// sniffHeadBytes; fewer if the file is shorter).
func sniffFile(head []byte) fileKind {
	if len(head) > sniffHeadBytes {
		head = head[:sniffHeadBytes]
	}
	typ, _, _ := strings.Cut(http.DetectContentType(head), ";")
	k := fileKind{Type: strings.TrimSpace(typ)}
	if !inlineImageTypes[k.Type] {
		return k
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(head))
	if err != nil || "image/"+format != k.Type || cfg.Width <= 0 || cfg.Height <= 0 ||
		int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return k
	}
	k.Inline, k.Width, k.Height = true, cfg.Width, cfg.Height
	return k
}
