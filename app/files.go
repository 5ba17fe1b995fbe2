package app

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Files (attachments): uploads, who may read a file, the links that serve
// it, and the sweep that deletes what nothing names.
//
// A file's bytes go to the BlobStore first (synced), then its record
// commits: an upload (FileStore.CreateUpload), or a file of a message that
// an append records. A crash between the two leaves a blob nothing names,
// never a record without its bytes; the sweep deletes such blobs, and
// uploads no message claimed within uploadTTL.

const (
	// uploadTTL is how long an upload waits for the message that carries
	// it before the sweep deletes it.
	uploadTTL = 24 * time.Hour
	// sweepEvery is how often the sweep runs.
	sweepEvery = time.Hour
	// sweepGrace spares blobs stored this shortly before a sweep began:
	// their record may be committing while the sweep reads the records.
	sweepGrace = time.Hour
	// fileLinkWindow is how long file links stay the same: a link made now
	// works until the end of the next window, 12 to 24 hours, so that a
	// browser's cache keeps an image across reloads.
	fileLinkWindow = 12 * time.Hour
)

// Upload stores the bytes r yields as an upload of actor uploader (an actor
// id: "A-3", "V-7") named name, made for thread threadID (0: for none). It
// reads r to its end: more than parley.MaxFileBytes is ETOOLARGE with
// nothing recorded. What the file is comes from its bytes (sniffFile).
// Without a BlobStore (Config.Blobs) it is EUNAVAILABLE.
func (a *App) Upload(ctx context.Context, uploader string, threadID uint64, name string, r io.Reader) (*parley.File, error) {
	at, err := a.putFile(ctx, name, r)
	if err != nil {
		return nil, err
	}
	f := &parley.File{Key: at.Key, Name: at.Name, Type: at.Type, Size: at.Size,
		Inline: at.Inline, Width: at.Width, Height: at.Height, UploadedBy: uploader, ThreadID: threadID}
	if err := a.db.CreateUpload(ctx, f); err != nil {
		return nil, err
	}
	return f, nil
}

// putFile stores the bytes r yields (at most parley.MaxFileBytes, else
// ETOOLARGE) and returns them as an attachment named name, its type
// sniffed from its bytes; its FileID is for the record that names it to
// set. Without a BlobStore it is EUNAVAILABLE.
func (a *App) putFile(ctx context.Context, name string, r io.Reader) (parley.Attachment, error) {
	blobs := a.cfg.Blobs
	if blobs == nil {
		return parley.Attachment{}, parley.Errorf(parley.EUNAVAILABLE, "this Parley keeps no files")
	}
	key, size, err := blobs.Put(ctx, r, parley.MaxFileBytes)
	if parley.ErrorCode(err) == parley.ETOOLARGE {
		return parley.Attachment{}, parley.Errorf(parley.ETOOLARGE, "the file is larger than %d MB, the most Parley takes", parley.MaxFileBytes>>20)
	} else if err != nil {
		return parley.Attachment{}, err
	}
	b, err := blobs.Open(ctx, key)
	if err != nil {
		return parley.Attachment{}, err
	}
	head, err := io.ReadAll(io.LimitReader(b, sniffHeadBytes))
	b.Close()
	if err != nil {
		return parley.Attachment{}, fmt.Errorf("read file: %w", err)
	}
	k := sniffFile(head)
	return parley.Attachment{Key: key, Name: parley.CleanFileName(name), Type: k.Type, Size: size,
		Inline: k.Inline, Width: k.Width, Height: k.Height}, nil
}

// mailFiles stores the files that came with email e and returns them as
// the message's attachments, and what of them was left out (with
// e.FilesLeftOut) as a line to add to the message's text, "" if nothing.
func (a *App) mailFiles(ctx context.Context, e *parley.InboundEmail) ([]parley.Attachment, string, error) {
	leftOut := slices.Clone(e.FilesLeftOut)
	var atts []parley.Attachment
	for _, f := range e.Files {
		at, err := a.putFile(ctx, f.Name, bytes.NewReader(f.Data))
		switch parley.ErrorCode(err) {
		case "":
			at.ContentID = f.ContentID
			atts = append(atts, at)
		case parley.EUNAVAILABLE, parley.ETOOLARGE:
			leftOut = append(leftOut, parley.CleanFileName(f.Name)+": "+parley.ErrorMessage(err))
		default:
			return nil, "", err
		}
	}
	if len(leftOut) == 0 {
		return atts, "", nil
	}
	return atts, "[Files not kept: " + limitString(strings.Join(leftOut, "; "), 2000) + "]", nil
}

// FileForUser returns file id if u may read it: a file of a thread of an
// inbox u is a member of, or u's own upload. Anything else is ENOTFOUND,
// as for a file that does not exist.
func (a *App) FileForUser(ctx context.Context, u *parley.User, id uint64) (*parley.File, error) {
	f, err := a.db.File(ctx, id)
	if err != nil {
		return nil, err
	}
	if f.UploadedBy == parley.UserActorID(u.ID) {
		return f, nil
	}
	if f.ThreadID != 0 {
		if _, err := a.ThreadForUser(ctx, u, f.ThreadID); err == nil {
			return f, nil
		} else if parley.ErrorCode(err) != parley.ENOTFOUND {
			return nil, err
		}
	}
	return nil, parley.Errorf(parley.ENOTFOUND, "file %d not found", id)
}

// OpenFile returns file f's bytes. The caller closes them.
func (a *App) OpenFile(ctx context.Context, f *parley.File) (parley.Blob, error) {
	if a.cfg.Blobs == nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "file %d not found", f.ID)
	}
	return a.cfg.Blobs.Open(ctx, f.Key)
}

// FileLink returns the path that serves attachment at to whoever holds it,
// signed and valid for 12 to 24 hours: it goes only to those who may read
// the message (an agent of its inbox, the visitor of a message shown to
// them), and lets a browser load an image without credentials (the widget
// shows images on another site than Parley's).
func (a *App) FileLink(ctx context.Context, at parley.Attachment) (string, error) {
	key, err := a.identificationKey(ctx)
	if err != nil {
		return "", err
	}
	now := a.Now()
	exp := now.Truncate(fileLinkWindow).Add(2 * fileLinkWindow).Unix()
	return "/files/" + strconv.FormatUint(at.FileID, 10) + "/" + url.PathEscape(at.Name) +
		"?e=" + strconv.FormatInt(exp, 10) + "&s=" + fileLinkMAC(key, at.FileID, exp), nil
}

// CheckFileLink reports whether e and s, from a link FileLink made for file
// id, are its signature and an expiry not passed.
func (a *App) CheckFileLink(ctx context.Context, id uint64, e, s string) (bool, error) {
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || exp < a.Now().Unix() || len(s) > 64 {
		return false, nil
	}
	key, err := a.identificationKey(ctx)
	if err != nil {
		return false, err
	}
	return hmac.Equal([]byte(s), []byte(fileLinkMAC(key, id, exp))), nil
}

func fileLinkMAC(key []byte, id uint64, exp int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("parley file link v1\x00"))
	m.Write(strconv.AppendUint(nil, id, 10))
	m.Write([]byte{0})
	m.Write(strconv.AppendInt(nil, exp, 10))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// SweepFiles deletes the uploads older than uploadTTL that no message
// claimed, then every blob stored before cutoff that no file names, and
// returns how many blobs went.
func (a *App) SweepFiles(ctx context.Context, cutoff time.Time) (int, error) {
	if a.cfg.Blobs == nil {
		return 0, nil
	}
	if _, err := a.db.DeleteUploads(ctx, a.Now().Add(-uploadTTL)); err != nil {
		return 0, err
	}
	keys, err := a.db.FileKeys(ctx)
	if err != nil {
		return 0, err
	}
	return a.cfg.Blobs.Sweep(ctx, cutoff, func(k string) bool { return keys[k] })
}

// FilesDeleted asks the sweep to run soon: records of files were deleted
// (an inbox with its threads), and their blobs should go with them.
func (a *App) FilesDeleted() {
	select {
	case a.sweepNow <- struct{}{}:
	default:
	}
}

// sweepFiles runs the sweep: once at start, when nothing can be being
// uploaded yet, with the start as its cutoff (what a crash left behind
// goes at once), then every sweepEvery and when FilesDeleted asks, sparing
// what was stored in the last sweepGrace.
func (a *App) sweepFiles(start time.Time) {
	defer a.wg.Done()
	sweep := func(cutoff time.Time) {
		n, err := a.SweepFiles(a.ctx, cutoff)
		if err != nil && a.ctx.Err() == nil {
			a.log.Error().Err(err).Msg("sweep files")
		} else if n > 0 {
			a.log.Info().Int("blobs", n).Msg("deleted files nothing names")
		} else {
			a.log.Debug().Msg("swept files: nothing to delete")
		}
	}
	sweep(start)
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-tick.C:
		case <-a.sweepNow:
		}
		sweep(a.Now().Add(-sweepGrace))
	}
}

// uploadGrantTTL is how long an upload grant works.
const uploadGrantTTL = 10 * time.Minute

// UploadGrant returns a grant that lets contact contactID upload files on
// widget widgetID for uploadGrantTTL, without other credentials: the
// visitor socket hands it out, and the widget posts its files with it
// (CheckUploadGrant).
func (a *App) UploadGrant(ctx context.Context, contactID, widgetID uint64) (string, error) {
	key, err := a.identificationKey(ctx)
	if err != nil {
		return "", err
	}
	exp := a.Now().Add(uploadGrantTTL).Unix()
	payload := strconv.FormatUint(contactID, 10) + "." + strconv.FormatUint(widgetID, 10) + "." + strconv.FormatInt(exp, 10)
	return payload + "." + grantMAC(key, payload), nil
}

// CheckUploadGrant returns the contact and widget of grant g, or
// EUNAUTHORIZED when it is malformed, forged or expired.
func (a *App) CheckUploadGrant(ctx context.Context, g string) (contactID, widgetID uint64, err error) {
	bad := parley.Errorf(parley.EUNAUTHORIZED, "the upload link is not valid or has expired; ask the chat for a new one")
	parts := strings.Split(g, ".")
	if len(g) > 200 || len(parts) != 4 {
		return 0, 0, bad
	}
	key, err := a.identificationKey(ctx)
	if err != nil {
		return 0, 0, err
	}
	payload := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(grantMAC(key, payload))) {
		return 0, 0, bad
	}
	contactID, err1 := strconv.ParseUint(parts[0], 10, 64)
	widgetID, err2 := strconv.ParseUint(parts[1], 10, 64)
	exp, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || exp < a.Now().Unix() {
		return 0, 0, bad
	}
	return contactID, widgetID, nil
}

func grantMAC(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("parley upload grant v1\x00"))
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}
