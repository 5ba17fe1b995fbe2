package parley

import (
	"context"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits of files (attachments). A message's files fit in one email after
// base64 (4/3 larger) under the 25 MB most mail providers accept.
const (
	// MaxFileNameBytes bounds a file's name as Parley keeps and shows it.
	MaxFileNameBytes = 255
	// MaxFileBytes bounds one file.
	MaxFileBytes = 15 << 20
	// MaxMessageFiles bounds the files of one message.
	MaxMessageFiles = 10
	// MaxMessageFileBytes bounds the files of one message together.
	MaxMessageFileBytes = 18 << 20
)

// File is a file Parley keeps: an upload waiting for the message that will
// carry it (MessageID 0), or an attachment of a message. Its bytes are in the
// BlobStore under Key; several files may share a blob.
type File struct {
	ID   uint64 `json:"id"`
	Key  string `json:"key"`  // the BlobStore key of its bytes
	Name string `json:"name"` // as CleanFileName keeps it
	// Type is the media type its bytes sniffed as (never what the uploader
	// claimed); "application/octet-stream" when unknown.
	Type string `json:"type"`
	Size int64  `json:"size"`
	// Inline reports an image shown in the page (PNG, JPEG, GIF or WebP
	// whose header decoded, of bounded size); everything else is a
	// download. Width and Height are its size in pixels.
	Inline bool `json:"inline,omitempty"`
	Width  int  `json:"width,omitempty"`
	Height int  `json:"height,omitempty"`
	// ContentID is the Content-ID of an image inside an email, which the
	// email's HTML names as "cid:…".
	ContentID string `json:"contentId,omitempty"`
	// UploadedBy is the actor id of who sent it: the only one whose message
	// may claim it while it is an upload.
	UploadedBy string    `json:"uploadedBy"`
	ThreadID   uint64    `json:"threadId,omitempty"`  // 0 for an upload not made for a thread
	MessageID  uint64    `json:"messageId,omitempty"` // 0 while an upload
	CreatedAt  time.Time `json:"createdAt"`
}

// Attachment is a file as a message carries it: enough to list and serve
// it without reading the file's record.
type Attachment struct {
	FileID    uint64 `json:"fileId"`
	Key       string `json:"key"`
	Name      string `json:"name"`
	Type      string `json:"type"`
	Size      int64  `json:"size"`
	Inline    bool   `json:"inline,omitempty"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	ContentID string `json:"contentId,omitempty"`
}

// Attachment returns f as a message carries it.
func (f *File) Attachment() Attachment {
	return Attachment{FileID: f.ID, Key: f.Key, Name: f.Name, Type: f.Type, Size: f.Size,
		Inline: f.Inline, Width: f.Width, Height: f.Height, ContentID: f.ContentID}
}

// FileStore keeps the records of files; their bytes are in a BlobStore,
// stored before the record that names them commits. A message claims
// uploads as it is appended (Message.Attachments, see MessageStore), and a
// thread's files go with the thread.
type FileStore interface {
	// CreateUpload records f, whose blob is stored, as an upload of
	// f.UploadedBy waiting for its message: its MessageID must be 0 and
	// its Key a blob key, else EINVALID.
	CreateUpload(ctx context.Context, f *File) error
	// File returns file id, or ENOTFOUND.
	File(ctx context.Context, id uint64) (*File, error)
	// DeleteUploads deletes the uploads made before cutoff that no message
	// claimed, and returns how many.
	DeleteUploads(ctx context.Context, cutoff time.Time) (int, error)
	// FileKeys returns the blob key of every file on record, uploads
	// included: the blobs a sweep of the BlobStore must keep.
	FileKeys(ctx context.Context) (map[string]bool, error)
}

// CleanFileName returns name as Parley keeps and shows a file's name: the
// last element of a path (either slash), without control and format
// characters (so that no right-to-left override turns "gpj.exe" into what
// looks like "exe.jpg"), spaces collapsed, no leading dots (no hidden
// files), invalid UTF-8 replaced, and cut to MaxFileNameBytes keeping the
// extension. A name with nothing left is "file".
func CleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	space := false
	for _, r := range name {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	name = strings.TrimSpace(strings.TrimLeft(b.String(), ". "))
	if len(name) > MaxFileNameBytes {
		ext := path.Ext(name)
		if len(ext) > 16 || !utf8.ValidString(ext) {
			ext = ""
		}
		stem := name[:MaxFileNameBytes-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = stem + ext
	}
	if name == "" {
		return "file"
	}
	return name
}
